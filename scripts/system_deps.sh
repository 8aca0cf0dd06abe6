#!/usr/bin/env bash
# System packages the tests need (installed only when missing): none yet beyond Python.
set -euo pipefail
exit 0
