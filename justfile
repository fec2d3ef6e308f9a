# cderun's tasks. `just --list` shows them.

set shell := ["bash", "-euo", "pipefail", "-c"]

musl := "x86_64-unknown-linux-musl"
static_bin := justfile_directory() / "target" / musl / "release" / "cderun"

# List the recipes
default:
    @just --list

# Build the release binary (target/release/cderun)
build:
    cargo build --release

# Unit and fake-runtime tests; the e2e suite is listed as ignored here
test:
    cargo test --all-targets

# Formatting, clippy with warnings as errors
lint:
    cargo fmt --all -- --check
    cargo clippy --all-targets -- -D warnings

# cderun's own cost per invocation (200-tool .tools.yaml, no-op runtime)
bench: static
    CDERUN_BENCH_BINARY={{static_bin}} cargo bench --bench overhead

# A static Linux binary (musl), the one that gets mounted into containers
static:
    rustup target add {{musl}} >/dev/null 2>&1 || rustup target list --installed | grep -qx {{musl}}
    cargo build --release --target {{musl}}
    @echo {{static_bin}}

# End-to-end tests against the real Docker daemon (images built offline)
e2e: static
    CDERUN_E2E=1 CDERUN_E2E_BINARY={{static_bin}} cargo test --test e2e -- --ignored --test-threads 2
    @leaked=$(docker ps -aq --filter label=io.cderun.tool; docker ps -aq --filter label=io.cderun.e2e); \
      if [ -n "$leaked" ]; then echo "e2e: containers left behind: $leaked" >&2; docker rm -f $leaked >/dev/null; exit 1; fi

# Real-daemon timings: cderun + docker run vs docker run alone, nested vs plain (median of >= 10)
bench-docker: static
    CDERUN_E2E_BINARY={{static_bin}} cargo bench --bench docker

# A nested run on this machine's Docker: no registry needed
demo: static
    #!/usr/bin/env bash
    set -euo pipefail
    eval "$(tests/e2e/images.sh)"
    project=$(mktemp -d)
    trap 'rm -rf "$project"' EXIT
    cat > "$project/.tools.yaml" <<YAML
    sh:                        # a shell; its image has no docker CLI at all
      image: $busybox
      mountCderun: true
    hello:                     # a tool in another image
      image: $busybox
      command: [echo]
    YAML
    cd "$project"
    set -x
    {{static_bin}} --mount-socket /var/run/docker.sock sh -c 'cderun hello "hello from a sibling container, started at depth $CDERUN_DEPTH"'
