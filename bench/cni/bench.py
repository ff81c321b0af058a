"""Timing driver for bench/cni/run.sh. Enters the node namespace itself (setns) so that no `ip netns exec`
start-up is counted, then times each plugin run with perf_counter around fork/exec/wait."""
import ctypes
import json
import os
import resource
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

PLUGIN = os.path.abspath(sys.argv[1])
RUNS = int(sys.argv[2])
CNI_BIN = "/usr/lib/cni"
PREFIX = "fnt-bench-" + secrets.token_hex(3)
NODE, POD = PREFIX + "-node", PREFIX + "-pod"
SUBNET_ENV = "FLANNEL_NETWORK=198.18.0.0/16\nFLANNEL_SUBNET=198.18.30.1/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n"


def cpu_children():
    # Reaping a process costs its reaper kernel time (flushing its /proc entries: several ms for the Go bridge
    # here). Run directly, the bridge is reaped by this script; run by our plugin, by the plugin. Counting this
    # script's own CPU as well keeps that cost on both sides of the comparison.
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    self = resource.getrusage(resource.RUSAGE_SELF)
    return children.ru_utime + children.ru_stime + self.ru_utime + self.ru_stime


def run(argv, stdin, env, cpu=None):
    """Wall time in ms. With a cpu list, also appends the CPU time (ms) of the process, of the children it waited
    for (the delegate) and of this script: that figure does not grow when other work loads the machine."""
    before = cpu_children()
    start = time.perf_counter_ns()
    done = subprocess.run(argv, input=stdin, env=env, capture_output=True)
    elapsed = (time.perf_counter_ns() - start) / 1e6
    if cpu is not None:
        cpu.append((cpu_children() - before) * 1000)
    if done.returncode != 0:
        raise RuntimeError(f"{argv} failed: {done.stdout!r} {done.stderr!r}")
    return elapsed, done.stdout


def cni_env(command, cid):
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "CNI_COMMAND": command, "CNI_CONTAINERID": cid,
            "CNI_NETNS": f"/var/run/netns/{POD}", "CNI_IFNAME": "eth0", "CNI_PATH": CNI_BIN}


def median(values):
    return statistics.median(values)


def main():
    tmp = tempfile.mkdtemp(prefix=PREFIX + "-")
    subprocess.run(["ip", "netns", "add", NODE], check=True)
    subprocess.run(["ip", "netns", "add", POD], check=True)
    try:
        subprocess.run(["ip", "-n", NODE, "link", "set", "lo", "up"], check=True)
        fd = os.open(f"/var/run/netns/{NODE}", os.O_RDONLY)
        if ctypes.CDLL(None, use_errno=True).setns(fd, 0x40000000) != 0:
            raise OSError(ctypes.get_errno(), "setns")
        os.close(fd)
        bench(tmp)
    finally:
        subprocess.run(["ip", "netns", "del", POD])
        subprocess.run(["ip", "netns", "del", NODE])
        shutil.rmtree(tmp, ignore_errors=True)


def bench(tmp):
    subnet_file = os.path.join(tmp, "subnet.env")
    with open(subnet_file, "w") as f:
        f.write(SUBNET_ENV)
    data_dir = os.path.join(tmp, "flannel")
    conf = json.dumps({"cniVersion": "1.0.0", "name": "cbr0", "type": "flannel", "subnetFile": subnet_file,
                       "dataDir": data_dir, "ipam": {"dataDir": os.path.join(tmp, "ipam")},
                       "delegate": {"hairpinMode": True, "isDefaultGateway": True}}).encode()

    # One warm-up ADD/DEL creates cni0 and yields the rendered delegate configuration for the direct runs.
    run([PLUGIN], conf, cni_env("ADD", "warm"))
    with open(os.path.join(data_dir, "warm"), "rb") as f:
        rendered = f.read()
    run([PLUGIN], conf, cni_env("DEL", "warm"))
    bridge = os.path.join(CNI_BIN, "bridge")
    run([bridge], rendered, cni_env("ADD", "warm"))
    run([bridge], rendered, cni_env("DEL", "warm"))

    ours_add, ours_del, direct_add, direct_del = [], [], [], []
    cpu = {k: [] for k in ("ours_add", "ours_del", "direct_add", "direct_del")}
    for i in range(RUNS):
        t, _ = run([PLUGIN], conf, cni_env("ADD", f"o{i}"), cpu["ours_add"]); ours_add.append(t)
        t, _ = run([PLUGIN], conf, cni_env("DEL", f"o{i}"), cpu["ours_del"]); ours_del.append(t)
        t, _ = run([bridge], rendered, cni_env("ADD", f"d{i}"), cpu["direct_add"]); direct_add.append(t)
        t, _ = run([bridge], rendered, cni_env("DEL", f"d{i}"), cpu["direct_del"]); direct_del.append(t)

    version, true_, version_cpu = [], [], []
    for _ in range(RUNS):
        t, _ = run([PLUGIN], b"", {"CNI_COMMAND": "VERSION"}, version_cpu); version.append(t)
        t, _ = run(["/bin/true"], b"", {}); true_.append(t)

    # Peak RSS: VERSION and a DEL without state (whole config path, no child) under GNU time; for ADD, a wrapper
    # delegate reads our VmHWM from /proc/<parent> once we have parsed, rendered, saved and spawned.
    def max_rss(argv, stdin, env):
        done = subprocess.run(["/usr/bin/time", "-f", "%M"] + argv, input=stdin, env=env, capture_output=True)
        return int(done.stderr.decode().strip().splitlines()[-1])

    rss_version = max(max_rss([PLUGIN], b"", {"CNI_COMMAND": "VERSION"}) for _ in range(5))
    rss_del = max(max_rss([PLUGIN], conf, cni_env("DEL", "absent")) for _ in range(5))
    probe_dir = os.path.join(tmp, "probe")
    os.makedirs(probe_dir)
    hwm_file = os.path.join(tmp, "hwm")
    with open(os.path.join(probe_dir, "bridge"), "w") as f:
        f.write(f"#!/bin/sh\ngrep VmHWM /proc/$PPID/status >> {hwm_file}\nexec {bridge} \"$@\"\n")
    os.chmod(os.path.join(probe_dir, "bridge"), 0o755)
    for i in range(5):
        env = cni_env("ADD", f"r{i}")
        env["CNI_PATH"] = probe_dir + ":" + CNI_BIN
        run([PLUGIN], conf, env)
        env["CNI_COMMAND"] = "DEL"
        run([PLUGIN], conf, env)
    with open(hwm_file) as f:
        rss_add = max(int(line.split()[1]) for line in f if line.startswith("VmHWM"))

    # The plugin's own cost, with a delegate that does nothing (compiled here; skipped without a C compiler).
    null_line = "null delegate: skipped (no cc/clang)"
    cc = shutil.which("cc") or shutil.which("clang")
    if cc:
        null_dir = os.path.join(tmp, "null")
        os.makedirs(null_dir)
        subprocess.run([cc, "-O2", "-o", os.path.join(null_dir, "bridge"),
                        os.path.join(os.path.dirname(os.path.abspath(__file__)), "null-delegate.c")], check=True)
        n = {k: [] for k in ("alone", "add", "del")}
        nc = {k: [] for k in ("alone", "add", "del")}
        for i in range(RUNS):
            env = cni_env("ADD", f"n{i}")
            env["CNI_PATH"] = null_dir
            t, _ = run([PLUGIN], conf, env, nc["add"]); n["add"].append(t)
            env["CNI_COMMAND"] = "DEL"
            t, _ = run([PLUGIN], conf, env, nc["del"]); n["del"].append(t)
            t, _ = run([os.path.join(null_dir, "bridge")], rendered, {}, nc["alone"]); n["alone"].append(t)
        nm = {k: median(v) for k, v in n.items()}
        ncm = {k: median(v) for k, v in nc.items()}
        null_line = (f"null delegate: ADD wall {nm['add'] - nm['alone']:.2f} ms / CPU {ncm['add'] - ncm['alone']:.2f} ms, "
                     f"DEL wall {nm['del'] - nm['alone']:.2f} ms / CPU {ncm['del'] - ncm['alone']:.2f} ms beyond the delegate's own")

    m = {k: median(v) for k, v in dict(ours_add=ours_add, ours_del=ours_del, direct_add=direct_add,
                                        direct_del=direct_del, version=version, true=true_).items()}
    c = {k: median(v) for k, v in cpu.items()}
    paired_add = median([a - b for a, b in zip(ours_add, direct_add)])
    paired_del = median([a - b for a, b in zip(ours_del, direct_del)])
    load = os.getloadavg()[0]
    print(f"runs per figure: {RUNS} (median), plugin {PLUGIN} ({os.path.getsize(PLUGIN) // 1024} KiB), "
          f"{os.cpu_count()} CPUs, load average {load:.1f}")
    print("                    flannel+bridge  bridge alone  overhead  (paired median)")
    print(f"ADD wall (ms)       {m['ours_add']:14.2f}  {m['direct_add']:12.2f}  {m['ours_add'] - m['direct_add']:8.2f}  ({paired_add:.2f})")
    print(f"DEL wall (ms)       {m['ours_del']:14.2f}  {m['direct_del']:12.2f}  {m['ours_del'] - m['direct_del']:8.2f}  ({paired_del:.2f})")
    print(f"ADD wall min (ms)   {min(ours_add):14.2f}  {min(direct_add):12.2f}  {min(ours_add) - min(direct_add):8.2f}")
    print(f"DEL wall min (ms)   {min(ours_del):14.2f}  {min(direct_del):12.2f}  {min(ours_del) - min(direct_del):8.2f}")
    print(f"ADD CPU (ms)        {c['ours_add']:14.2f}  {c['direct_add']:12.2f}  {c['ours_add'] - c['direct_add']:8.2f}")
    print(f"DEL CPU (ms)        {c['ours_del']:14.2f}  {c['direct_del']:12.2f}  {c['ours_del'] - c['direct_del']:8.2f}")
    print(f"start-up, VERSION: wall {m['version']:.2f} ms (/bin/true {m['true']:.2f} ms), CPU {median(version_cpu):.2f} ms")
    print(null_line)
    print(f"peak RSS: VERSION {rss_version / 1024:.1f} MiB, DEL (no state) {rss_del / 1024:.1f} MiB, ADD (at delegate spawn) {rss_add / 1024:.1f} MiB")

main()
