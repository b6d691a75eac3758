// The service worker: keeps the app shell and the shipped forms in a cache so the app starts and works
// with the network off after the first visit. The build fills __VERSION__ and __PRECACHE__.
const CACHE = 'doorstep-__VERSION__';
const PRECACHE = __PRECACHE__;

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    // cache: 'reload' so an HTTP cache between us and the server cannot hand us old files.
    await cache.addAll(PRECACHE.map((url) => new Request(url, { cache: 'reload' })));
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    // Only caches of older app versions are deleted; drafts live in IndexedDB and are never touched.
    for (const name of await caches.keys()) {
      if (name.startsWith('doorstep-') && name !== CACHE) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

self.addEventListener('fetch', (event) => {
  const req = event.request;
  if (req.method !== 'GET') return;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  event.respondWith((async () => {
    const cache = await caches.open(CACHE);
    // Navigations get the app shell, whatever the path.
    const key = req.mode === 'navigate' ? './index.html' : req;
    const hit = await cache.match(key, { ignoreSearch: req.mode === 'navigate' });
    if (hit) return hit;
    try {
      const res = await fetch(req);
      // Forms fetched later (e.g. from this server's forms/ folder) are kept for offline use too.
      if (res.ok && url.pathname.includes('/forms/')) cache.put(req, res.clone());
      return res;
    } catch (e) {
      if (req.mode === 'navigate') {
        const shell = await cache.match('./index.html') || await cache.match('./');
        if (shell) return shell;
      }
      throw e;
    }
  })());
});
