//! Runtimes consume a [`ContainerConfig`](crate::container::ContainerConfig)
//! and nothing else. Today that is the runtime's own CLI ([`cli`]).

pub mod cli;
