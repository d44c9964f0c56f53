#!/usr/bin/env python3
# kernel-vs-e2fsck-replay.py DB TORN: for each fsck or data signature of a torn fuzz campaign database,
# rebuild its first failing state (torn replay of the finding's crash point and dropped entries) and
# judge it after two journal replays:
#   e2fsck   e2fsck -E journal_only -y (e2fsprogs' replay, fast commits included), then e2fsck -fn;
#   kernel   this machine's kernel: a copy mounted through a loop device and unmounted, then e2fsck -fn;
#            for a data signature, each path its detail names is read from the mount and compared with
#            what the detail expected (any of its alternatives).
# Prints one JSON line per signature. Why: torn's fsck and data oracles replay the journal with e2fsck;
# for fast commits e2fsck 1.47.0's replay and the kernel's differ (docs/fuzz.md, "fast_commit"), and this
# tells which findings the kernel's own replay shows too. Needs root (loop devices, mount); the mounts
# are of copies of the campaign's own crash states, in a temporary directory removed at the end.
import hashlib, json, os, re, sqlite3, subprocess, sys, tempfile

def run(*args):
    return subprocess.run(args, capture_output=True, text=True)

def main():
    db, torn = sys.argv[1], sys.argv[2]
    base = os.path.dirname(os.path.abspath(db))
    rows = sqlite3.connect(db).execute(
        """SELECT f.signature, f.oracle, f.workload, w.trace, f.crash_point, f.dropped, f.detail
           FROM findings f JOIN workloads w ON w.id = f.workload
           WHERE f.oracle IN ('fsck', 'data')
             AND f.workload = (SELECT min(workload) FROM findings g WHERE g.signature = f.signature)
           ORDER BY f.signature""").fetchall()
    with tempfile.TemporaryDirectory(prefix="torn-kvse-", dir="/dev/shm") as tmp:
        mnt = os.path.join(tmp, "mnt")
        os.mkdir(mnt)
        for sig, oracle, workload, trace, crash_point, dropped, detail in rows:
            trace = trace if os.path.isabs(trace) else os.path.join(base, trace)
            img, e, k = (os.path.join(tmp, n) for n in ("s.img", "e.img", "k.img"))
            args = [torn, "replay", trace, "--to-entry", str(crash_point), "--out", img]
            if dropped:
                if dropped.endswith("..."):  # the database keeps 64 entries: not the same state
                    print(json.dumps({"signature": sig, "skipped": "dropped list truncated"}))
                    continue
                args += ["--drop", dropped]
            if run(*args).returncode != 0:
                print(json.dumps({"signature": sig, "skipped": "torn replay failed"}))
                continue
            run("cp", "--sparse=always", img, e)
            run("cp", "--sparse=always", img, k)
            run("e2fsck", "-E", "journal_only", "-y", e)
            result = {"signature": sig, "oracle": oracle, "workload": workload, "crash_point": crash_point,
                      "e2fsck_replay_fn_exit": run("e2fsck", "-fn", e).returncode}
            m = run("mount", "-o", "loop", k, mnt)
            if m.returncode != 0:
                result["kernel_replay"] = "mount failed: " + m.stderr.strip()
            else:
                if oracle == "data":
                    result["data_as_promised_after_kernel_replay"] = DataAsPromised(detail, mnt)
                run("umount", mnt)
                result["kernel_replay_fn_exit"] = run("e2fsck", "-fn", k).returncode
            print(json.dumps(result), flush=True)
            for f in (img, e, k):
                os.remove(f)

# The data oracle's detail: "PATH: size A md5 B, expected size C md5 D [or size E md5 F]", or
# "PATH: missing ..." / "PATH: not a regular file ..." / "PATH/: missing" for a promised directory.
def DataAsPromised(detail, mnt):
    ok = True
    for path, rest in re.findall(r"([\w./-]+): ([^;()]*)", detail):
        full = os.path.join(mnt, path)
        if path.endswith("/"):
            ok &= os.path.isdir(full)
            continue
        want = re.findall(r"size (\d+) md5 ([0-9a-f]{32})", rest.split("expected", 1)[1]) if "expected" in rest else []
        if not os.path.isfile(full):
            ok = False
        elif want:
            data = open(full, "rb").read()
            ok &= (str(len(data)), hashlib.md5(data).hexdigest()) in want
    return ok

if __name__ == "__main__":
    main()
