//! Integration tests of fazhi-files: the store on a local directory, in memory, on a real S3
//! server (Garage) and on moto's S3 emulator; sniffing of real files; file names.

mod common;
mod config;
mod local;
mod memory;
mod names;
mod s3;
mod sniffing;
