//! End-to-end tests: the real `liverec` binary driven by real clients
//! (ffmpeg publishers, the official Tencent Cloud Python SDK, tccli) and
//! checked with ffprobe. Needs ffmpeg/ffprobe and the SDK installed, as
//! `scripts/test.sh` does.
#![allow(unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

mod harness;
mod probe;

mod api;
mod callbacks;
mod callbacks_config;
mod cluster;
mod domains;
mod files;
mod formats;
mod hostile;
mod load;
mod mix;
mod players;
mod recording;
mod s3;
mod service;
mod streams;
mod tasks;
mod templates;
mod tls;
