//! Prints a generated form (`doorstep_core::generator`) on standard output, for the benchmarks that run
//! outside this crate (`cargo xtask bench-web`). Usage: `gen_form [QUESTIONS] [PAGE_SIZE] [SEED]`.

use doorstep_core::generator::{GenOptions, generate};

fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let opts = GenOptions {
        questions: args.first().map_or(1000, |&n| n as usize),
        page_size: args.get(1).map_or(20, |&n| n as usize),
        seed: args.get(2).copied().unwrap_or(42),
    };
    println!("{}", generate(opts));
}
