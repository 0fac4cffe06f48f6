#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# t-fabric-mtu.sh over Geneve (8 more bytes of overhead: vfab's option).
FAB_TUNNEL=geneve exec bash "$(dirname "$0")/t-fabric-mtu.sh"
