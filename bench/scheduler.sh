#!/usr/bin/env bash
# What one create costs the scheduler as armed plans grow (1,000 to 100,000),
# in a release build: arming the new plan plus the next wake-up, against one
# full reconcile. Prints figures; asserts nothing about speed.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --release -p liverec --lib bench_arm_cost_by_armed_plans -- --ignored --nocapture 2>&1 \
  | grep -E "^armed"
