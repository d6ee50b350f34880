//! Integration tests against the Act-On emulator over loopback HTTP.
#![allow(clippy::unwrap_used)]

mod common;
mod discovery;
mod faults;
mod lists;
mod objects;
mod shapes;
mod views;
