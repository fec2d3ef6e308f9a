//! The `cderun` executable: everything happens in [`cderun::run`].

fn main() {
    std::process::exit(cderun::run(std::env::args_os().collect()));
}
