//! Helpers shared by auth-core's integration tests.

// Each test crate that declares `mod support;` uses a different subset of the helpers.
#![allow(dead_code)]

pub(crate) mod canned;
pub(crate) mod webdriver;
