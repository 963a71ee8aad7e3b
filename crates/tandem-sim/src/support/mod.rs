//! Helpers the sandbox's services share: request member readers (`input`),
//! time-driven state changes (`phase`), the CBOR writer (`cbor`) and
//! timestamps (`time`).

pub(crate) mod cbor;
pub(crate) mod input;
pub(crate) mod phase;
pub(crate) mod time;
