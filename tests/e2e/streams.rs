//! Scenarios 3 and 7: exit codes, stdin and a large output through two
//! levels (host cderun → container → nested cderun → sibling container).

use crate::harness::{Case, q};

/// The tool's own exit code comes back unchanged through both `docker run`s.
#[test]
#[ignore = "e2e: needs a Docker daemon; run `just e2e`"]
fn exit_codes_through_two_levels() {
    let case = Case::new("exit-codes");
    let env = case.env();
    let (outer, code) = (case.tool("outer"), case.tool("code"));
    case.tools_yaml(&format!(
        "{outer}:\n  image: {}\n  mountCderun: true\n  command: [cderun, {code}]\n\
         {code}:\n  image: {}\n  command: [sh, -c, {}, sh]\n",
        env.docker,
        env.busybox,
        q(r#"echo "exiting with $1"; exit "$1""#)
    ));
    for c in [0, 7, 255] {
        case.run_nested(&[&outer, &c.to_string()])
            .expect(c, &format!("exiting with {c}\n"));
    }
    case.finish();
}

/// Piped stdin reaches a tool two levels down byte for byte: the outer tool
/// has `interactive: true`, the inner one `interactive: auto` (its stdin in
/// the level-1 container is a pipe, so auto attaches it).
#[test]
#[ignore = "e2e: needs a Docker daemon; run `just e2e`"]
fn stdin_through_two_levels() {
    let case = Case::new("stdin");
    let env = case.env();
    let (outer, upper) = (case.tool("outer"), case.tool("upper"));
    case.tools_yaml(&format!(
        "{outer}:\n  image: {}\n  mountCderun: true\n  interactive: true\n  command: [cderun, {upper}]\n\
         {upper}:\n  image: {}\n  interactive: auto\n  command: [tr, a-z, A-Z]\n",
        env.docker, env.busybox
    ));
    let input: String = (0..20_000)
        .map(|i| format!("line {i} through two levels\n"))
        .collect();
    let run = case.run_nested_with_stdin(&[&outer], input.as_bytes());
    assert!(input.len() > 500_000);
    run.expect(0, &input.to_uppercase());

    // Without attaching stdin (the defaults), the tool reads nothing.
    let (outer_closed, upper_closed) = (case.tool("outer-closed"), case.tool("upper-closed"));
    case.write(
        ".tools.yaml",
        format!(
            "{outer_closed}:\n  image: {}\n  mountCderun: true\n  command: [cderun, {upper_closed}]\n\
             {upper_closed}:\n  image: {}\n  command: [sh, -c, 'echo \"read $(wc -c) bytes\"']\n",
            env.docker, env.busybox
        ),
    );
    case.run_nested_with_stdin(&[&outer_closed], b"ignored\n")
        .expect(0, "read 0 bytes\n");
    case.finish();
}

/// 10 MiB of random bytes from a project file, `cat` two levels down,
/// arrive complete and identical.
#[test]
#[ignore = "e2e: needs a Docker daemon; run `just e2e`"]
fn large_output_through_two_levels() {
    let case = Case::new("large-output");
    let env = case.env();
    let (outer, cat) = (case.tool("outer"), case.tool("cat"));
    let data = random_bytes(10 * 1024 * 1024, 0x5eed_cde7);
    case.write("big.bin", &data);
    case.tools_yaml(&format!(
        "{outer}:\n  image: {}\n  mountCderun: true\n  command: [cderun, {cat}]\n\
         {cat}:\n  image: {}\n  command: [cat, big.bin]\n",
        env.docker, env.busybox
    ));
    let run = case.run_nested(&[&outer]);
    assert_eq!(run.code, 0, "stderr:\n{}", run.stderr);
    assert_eq!(run.stdout.len(), data.len(), "output length");
    if let Some(at) = run.stdout.iter().zip(&data).position(|(a, b)| a != b) {
        panic!("output differs from big.bin at byte {at}");
    }
    case.finish();
}

/// xorshift64*: incompressible, reproducible test data without a crate.
pub fn random_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        out.extend_from_slice(&x.wrapping_mul(0x2545_f491_4f6c_dd1d).to_le_bytes());
    }
    out.truncate(len);
    out
}
