#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Judge vfab's frame parser against Wireshark.

Generates a few thousand frames with scapy (tests/integration/judges/
gen_frames.py: every protocol the parser reads, truncations, malformed
headers, garbage), decodes them with `vfabctl decode` and with tshark, and
fails if the two disagree on any field of any frame, outer or inner
(tests/integration/judges/compare.py: the field mapping and the documented
rules).  Needs no root; skips (77) without tshark or scapy.

Environment: VFAB_BUILD (build directory), VFAB_JUDGE_FRAMES (default
10000), VFAB_JUDGE_SEED (default 1; the frames are the same for a seed).
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "judges"))


def main():
    if not shutil.which("tshark"):
        print("SKIP: tshark not installed")
        return 77
    try:
        import scapy.all  # noqa: F401
    except ImportError:
        print("SKIP: scapy not installed")
        return 77
    import compare
    import gen_frames

    build = os.environ.get("VFAB_BUILD",
                           os.path.join(HERE, "..", "..", "build", "release"))
    vfabctl = os.path.join(build, "src", "vfabctl", "vfabctl")
    if not os.access(vfabctl, os.X_OK):
        print("FAIL: %s is not built" % vfabctl)
        return 1
    count = int(os.environ.get("VFAB_JUDGE_FRAMES", "10000"))
    seed = int(os.environ.get("VFAB_JUDGE_SEED", "1"))

    tmp = tempfile.mkdtemp(prefix="vfab-judge-")
    try:
        t0 = time.monotonic()
        frames = gen_frames.generate(count, seed)
        pcap = os.path.join(tmp, "frames.pcap")
        gen_frames.write_pcap(pcap, frames)
        tags = {i: "%d/%d %s" % (len(d), w, what)
                for i, (d, w, what) in enumerate(frames, 1)}
        t1 = time.monotonic()
        try:
            res = compare.compare(pcap, vfabctl)
        except (subprocess.CalledProcessError, RuntimeError) as e:
            print("FAIL: a decoder failed: %s" % e)
            return 1
        t2 = time.monotonic()
        compare.report(res, tags, 25, True)
        print("judge: seed %d; generated in %.1fs, compared in %.1fs"
              % (seed, t1 - t0, t2 - t1))
        if res["frames"] != count:
            print("FAIL: tshark read %d of %d frames" % (res["frames"], count))
            return 1
        if res["problems"]:
            # Keep the capture for investigation.
            keep = os.path.join(tempfile.gettempdir(),
                                "vfab-judge-failed-seed%d.pcap" % seed)
            shutil.copy(pcap, keep)
            print("FAIL: vfab and tshark disagree; frames kept in %s "
                  "(regenerate: tests/integration/judges/gen_frames.py -n %d "
                  "--seed %d --tags TAGS OUT.pcap)" % (keep, count, seed))
            return 1
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
