//! End-to-end tests of cderun against a real Docker daemon: nested
//! (recursive) execution through the mounted socket and binary, with images
//! built offline by `images.sh`. Every test is ignored by plain `cargo test`;
//! `just e2e` runs them. See README.md in this directory.

mod harness;

mod api;
mod cleanup;
mod limits;
mod nested;
mod shims;
mod streams;
