#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# t-fabric-basic.sh over Geneve (with vfab's source-VNIC option).
FAB_TUNNEL=geneve exec bash "$(dirname "$0")/t-fabric-basic.sh"
