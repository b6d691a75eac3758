//! One stable sort for the whole program.
//!
//! `slice::sort_by` is generic over the element and the comparator, so every call site compiles its
//! own copy of the sorting algorithm (about 5 KB of wasm each). These helpers sort a list of indices
//! with a comparator behind `&dyn`, so the algorithm exists once, and then move the elements into
//! place. The result is exactly that of `sort_by` (stable: equal elements keep their order).

use std::cmp::Ordering;

/// The order of `0..n` sorted by `cmp`, stable.
fn sorted_indices(n: usize, cmp: &dyn Fn(usize, usize) -> Ordering) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..n).collect();
    idx.sort_by(|&a, &b| cmp(a, b));
    idx
}

/// Like `v.sort_by(cmp)` (stable), with one shared copy of the sorting code.
pub fn sort_by<T>(v: &mut [T], cmp: impl Fn(&T, &T) -> Ordering) {
    let mut idx = sorted_indices(v.len(), &|a, b| cmp(&v[a], &v[b]));
    // Position `k` receives the element at `idx[k]`: follow each cycle of the permutation.
    for i in 0..idx.len() {
        let mut j = i;
        loop {
            let k = idx[j];
            idx[j] = j;
            if k == i {
                break;
            }
            v.swap(j, k);
            j = k;
        }
    }
}

/// Like `v.sort_by_key(key)` (stable).
pub fn sort_by_key<T, K: Ord>(v: &mut [T], key: impl Fn(&T) -> K) {
    sort_by(v, |a, b| key(a).cmp(&key(b)));
}

/// Like `v.sort()` (stable; for `sort_unstable` on plain values the result is the same).
pub fn sort<T: Ord>(v: &mut [T]) {
    sort_by(v, T::cmp);
}

#[cfg(test)]
mod tests {
    #[test]
    fn same_as_std() {
        let mut seed = 7u64;
        for n in 0..60 {
            let mut v: Vec<(u8, usize)> = (0..n)
                .map(|i| {
                    seed = seed
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    ((seed >> 60) as u8, i)
                })
                .collect();
            let mut want = v.clone();
            want.sort_by_key(|x| x.0);
            super::sort_by_key(&mut v, |x| x.0);
            assert_eq!(v, want);
            let mut w = want.clone();
            w.reverse();
            let mut want2 = w.clone();
            want2.sort();
            super::sort(&mut w);
            assert_eq!(w, want2);
        }
    }
}
