//! Tests that run the real cderun binary against the recording fake docker
//! (`tests/fake-docker/docker`) and compare the runtime's whole argv.

mod fixtures;
mod support;

mod discovery;
mod dry_run;
mod errors;
mod exit_codes;
mod parsing;
mod precedence;
mod pty;
mod recursive;
mod smoke;
