//! What the tests that drive the `tandem` binary share: the harness of
//! every test folder (`tandem-test`: the repository and its virtualenv,
//! moto, the environment for the SDK clients) and `tandem sandbox --moto`
//! (tandem-sim in front of the pinned moto) of the binary under test, on a
//! free loopback port for one test.

// Each test binary includes this module and uses what it needs.
#![allow(dead_code)]

// Like the functions: each test binary uses a part of the harness.
#[allow(unused_imports)]
pub use tandem_test::{ensure_venv, root, text, venv, venv_bin, Moto, Sandbox, TestEnv};

/// `tandem sandbox --moto --port 0` of the binary under test, once it says where it listens.
pub fn sandbox() -> Sandbox {
    Sandbox::start(env!("CARGO_BIN_EXE_tandem"))
}

/// `moto_server` alone on a free loopback port, once it answers.
pub fn moto() -> Moto {
    Moto::start()
}
