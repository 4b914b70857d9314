#!/usr/bin/env bash
# shellcheck disable=SC2015,SC2317  # "A && B || fail" is meant; cleanup() runs from the trap
# kill -9 torture run of vkgan's crash safety (docs/CRASH-SAFETY.md). Run by hand; not part of
# the test suite. For each configuration: a reference run straight through, then the same run
# killed with SIGKILL again and again (at random moments, and while a checkpoint is being
# written) and resumed with --resume until it completes; every file of the run directory is
# parsed after every kill, and at the end the final checkpoints' tensors, the metrics logs and the
# sample grids are compared with the reference. Then, as root, a full disk (a small tmpfs).
# Prints PASS or FAIL last; exits 1 on any failure, 2 on bad usage.
set -euo pipefail

usage() {
    echo "usage: tools/torture.sh [--rounds N] [--steps N] [--dcgan-rounds N] [--dcgan-steps N]" \
         "[--seed S] [--no-disk] [--work DIR] [--keep] [--vkgan PATH]"
}

ROUNDS=20          # ring8: kills (odd rounds at a random moment, even ones during a checkpoint)
STEPS=400          # ring8: training steps
DC_ROUNDS=6        # tiny DCGAN on fashion-mnist (0: skip it)
DC_STEPS=100
SEED=1             # seed of the kill schedule (the delays and which checkpoint write is hit)
DISK=1
WORK=""
KEEP=0
ROOT=$(cd "$(dirname "$0")/.." && pwd)
VKGAN="$ROOT/build/vkgan"
while [ $# -gt 0 ]; do
    case "$1" in
        --rounds) ROUNDS=$2; shift 2 ;;
        --steps) STEPS=$2; shift 2 ;;
        --dcgan-rounds) DC_ROUNDS=$2; shift 2 ;;
        --dcgan-steps) DC_STEPS=$2; shift 2 ;;
        --seed) SEED=$2; shift 2 ;;
        --no-disk) DISK=0; shift ;;
        --work) WORK=$2; shift 2 ;;
        --keep) KEEP=1; shift ;;
        --vkgan) VKGAN=$2; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; exit 2 ;;
    esac
done
for n in "$ROUNDS" "$STEPS" "$DC_ROUNDS" "$DC_STEPS" "$SEED"; do
    [[ "$n" =~ ^[0-9]+$ ]] || { usage >&2; exit 2; }
done
[ -x "$VKGAN" ] || { echo "torture: $VKGAN is not built (cmake --build build)" >&2; exit 2; }
command -v python3 >/dev/null || { echo "torture: needs python3" >&2; exit 2; }
if [ -z "$WORK" ]; then WORK=$(mktemp -d /tmp/vkgan-torture.XXXXXX); fi
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
# a copy: others may rebuild build/vkgan while this runs (the shaders are inside the binary)
cp "$VKGAN" "$WORK/vkgan"
VKGAN="$WORK/vkgan"
RANDOM=$SEED
T0=$SECONDS
FAILS=()
MOUNTED=""
SKIPPED_DISK=""
fail() { FAILS+=("$*"); echo "  FAIL: $*"; }
cleanup() {
    if [ -n "$MOUNTED" ]; then umount "$MOUNTED" 2>/dev/null || true; fi
}
trap cleanup EXIT

# ---------------------------------------------------------------------------------------------
# The checks, in Python: parse a run directory, kill at a checkpoint write, compare two runs.
PY="$WORK/torture.py"
cat >"$PY" <<'PYEOF'
import json, os, re, signal, struct, sys, time, zlib

DT = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1,
      "U16": 2, "U32": 4, "U64": 8, "BOOL": 1}
TMP = re.compile(r"\.tmp\d+$")

class Bad(Exception):
    pass

def read_st(path):
    """safetensors: 8-byte LE header size, JSON header, the tensors tiling the data section."""
    b = open(path, "rb").read()
    if len(b) < 8:
        raise Bad("shorter than its 8-byte header size")
    n = int.from_bytes(b[:8], "little")
    if 8 + n > len(b):
        raise Bad("header of %d bytes runs past the end (%d bytes)" % (n, len(b)))
    try:
        hdr = json.loads(b[8:8 + n])
    except ValueError as e:
        raise Bad("header is not JSON: %s" % e)
    meta = hdr.pop("__metadata__", {}) or {}
    if not all(isinstance(v, str) for v in meta.values()):
        raise Bad("metadata values are not all strings")
    data = b[8 + n:]
    spans, tensors = [], {}
    for name, t in hdr.items():
        dt, shape, (b0, e0) = t["dtype"], t["shape"], t["data_offsets"]
        size = DT[dt]
        for d in shape:
            size *= d
        if e0 - b0 != size:
            raise Bad("%s: %d bytes for %s %s" % (name, e0 - b0, dt, shape))
        spans.append((b0, e0, name))
        tensors[name] = (dt, tuple(shape), data[b0:e0])
    pos = 0
    for b0, e0, name in sorted(spans):
        if b0 != pos:
            raise Bad("%s starts at %d, not %d (gap or overlap)" % (name, b0, pos))
        pos = e0
    if pos != len(data):
        raise Bad("tensors end at %d but the data section has %d bytes" % (pos, len(data)))
    return meta, tensors

def check_png(path):
    b = open(path, "rb").read()
    if b[:8] != b"\x89PNG\r\n\x1a\n":
        raise Bad("no PNG signature")
    pos, idat, ihdr, end = 8, b"", None, False
    while pos < len(b) and not end:
        if pos + 8 > len(b):
            raise Bad("truncated chunk header")
        n = int.from_bytes(b[pos:pos + 4], "big")
        kind, body, crc = b[pos + 4:pos + 8], b[pos + 8:pos + 8 + n], b[pos + 8 + n:pos + 12 + n]
        if len(body) != n or len(crc) != 4:
            raise Bad("truncated %r chunk" % kind)
        if zlib.crc32(kind + body) != int.from_bytes(crc, "big"):
            raise Bad("bad CRC in %r" % kind)
        if kind == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        end = kind == b"IEND"
        pos += 12 + n
    if not ihdr or not end or pos != len(b):
        raise Bad("no IHDR, no IEND or bytes after IEND")
    w, h, depth, ctype, _, _, interlace = ihdr
    chans = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[ctype]
    raw = zlib.decompress(idat)
    if interlace == 0 and len(raw) != h * (1 + (w * chans * depth + 7) // 8):
        raise Bad("%d bytes of pixels for %dx%d" % (len(raw), w, h))

def log_lines(path, parse):
    """The complete lines of a log; a last line without its newline is torn (counted)."""
    text = open(path, "rb").read().decode("utf-8", "replace")
    lines = text.split("\n")
    torn = 0
    if lines[-1] == "":
        lines.pop()
    else:
        torn = 1
        lines.pop()
    rows = []
    for i, line in enumerate(lines):
        try:
            rows.append(parse(line))
        except Exception as e:
            raise Bad("line %d does not parse (%s): %.80s" % (i + 1, e, line))
    return rows, torn

CSV_HEADER = "step,epoch,seconds,images_per_s,loss_d,loss_g,d_x,d_g_z,d_g_z_after,lr_d,lr_g," \
             "modes_covered,high_quality"

def check_dir(d, strict):
    """Parses every file of a run directory. One line: files=N torn=T tmp=a,b errors=E;
    the errors follow, one a line. strict: no torn line, no temporary file allowed."""
    files, torn, tmps, errors = 0, 0, [], []
    for root, _, names in os.walk(d):
        for name in sorted(names):
            p = os.path.join(root, name)
            rel = os.path.relpath(p, d)
            if TMP.search(name):
                tmps.append("%s(%dB)" % (rel, os.path.getsize(p)))
                continue
            files += 1
            try:
                if name == "config.json":
                    json.load(open(p))
                elif name == "metrics.jsonl":
                    rows, t = log_lines(p, json.loads)
                    torn += t
                    steps = [r["step"] for r in rows if "loss_d" in r]
                    if any(b <= a for a, b in zip(steps, steps[1:])):
                        raise Bad("metric steps do not increase: %s" % steps)
                elif name == "metrics.csv":
                    text = open(p).read()
                    if text and not text.startswith(CSV_HEADER + "\n") and \
                            not CSV_HEADER.startswith(text):
                        raise Bad("no header line: %.60r" % text)
                    def row(line):
                        if line == CSV_HEADER:
                            return None
                        f = line.split(",")
                        if len(f) != 13:
                            raise Bad("%d fields" % len(f))
                        return int(f[0]), [float(x) for x in f[1:11]]
                    rows, t = log_lines(p, row)
                    torn += t
                    steps = [r[0] for r in rows if r]
                    if any(b <= a for a, b in zip(steps, steps[1:])):
                        raise Bad("steps do not increase: %s" % steps)
                    if rows.count(None) > 1 or (rows and rows[0] is not None):
                        raise Bad("the header is not the first line, or not the only one")
                elif name.endswith(".safetensors"):
                    read_st(p)
                elif name.endswith(".png"):
                    check_png(p)
                elif name == "train.lock":
                    if not re.fullmatch(r"(\d+\n)?", open(p).read()):
                        raise Bad("not a PID")
                else:
                    raise Bad("a file vkgan does not write")
            except (Bad, ValueError, KeyError, OSError, zlib.error) as e:
                errors.append("%s: %s" % (rel, e))
    if strict and torn:
        errors.append("%d torn log line(s) in a finished run" % torn)
    if strict and tmps:
        errors.append("temporary files left in a finished run: " + ",".join(tmps))
    print("files=%d torn=%d tmp=%s errors=%d" % (files, torn, ",".join(tmps) or "-", len(errors)))
    for e in errors:
        print(e)

def newest(d):
    try:
        steps = [int(m.group(1)) for m in
                 (re.fullmatch(r"step-(\d{9})\.safetensors", n) for n in
                  os.listdir(os.path.join(d, "checkpoints"))) if m]
    except OSError:
        steps = []
    print(max(steps) if steps else -1)

def dead(pid):
    try:
        return open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()[0] in "ZX"
    except OSError:
        return True

def kill_round(mode, arg, rundir, log, cmd, timeout=300):
    """Starts cmd (stdout and stderr to log) and kills it with SIGKILL: mode 'random' after arg
    milliseconds; mode 'tmp' as soon as the arg-th checkpoint temporary file appears. That wait
    is woken by inotify (IN_CREATE) where ctypes reaches it, else it polls in a tight loop: a
    temporary checkpoint lives only for its write and fsync, and on a loaded machine a busy
    poller is often off the CPU then, while a task woken from sleep is scheduled at once. The
    watch is set before vkgan starts (a late watcher misses the first checkpoints).
    Prints: PID EXIT WHAT (the step whose checkpoint was being written, or '-')."""
    import subprocess
    ckdir, what = os.path.join(rundir, "checkpoints"), "-"
    fd, libc = -1, None
    if mode == "tmp":
        try:
            import ctypes
            libc = ctypes.CDLL(None, use_errno=True)
            fd = libc.inotify_init1(os.O_NONBLOCK)
        except (OSError, AttributeError):
            fd = -1
    watched = set()

    def watch(path, mask):  # IN_CREATE 0x100; returns whether it is watched
        if fd >= 0 and path not in watched and os.path.isdir(path):
            if libc.inotify_add_watch(fd, path.encode(), mask) >= 0:
                watched.add(path)
        return path in watched

    if fd >= 0:
        os.makedirs(os.path.dirname(rundir) or ".", exist_ok=True)
        watch(os.path.dirname(rundir) or ".", 0x100)
        watch(rundir, 0x100)
        watch(ckdir, 0x100)
    with open(log, "wb") as out:
        p = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    t0, seen = time.time(), set()
    if mode == "random":
        try:
            p.wait(timeout=int(arg) / 1000.0)
        except subprocess.TimeoutExpired:
            p.kill()
    else:
        import select
        while p.poll() is None:
            names = []
            if fd >= 0:
                if not watch(ckdir, 0x100):
                    watch(rundir, 0x100)
                if select.select([fd], [], [], 0.02)[0]:
                    buf, i = os.read(fd, 65536), 0
                    while i + 16 <= len(buf):
                        n = struct.unpack_from("iIII", buf, i)[3]
                        names.append(buf[i + 16:i + 16 + n].rstrip(b"\0").decode())
                        i += 16 + n
                    if not os.path.isdir(ckdir) or ckdir not in watched:
                        names = []
            else:
                try:
                    names = os.listdir(ckdir)
                except OSError:
                    pass
            for n in names:
                if ".tmp" in n and n.startswith("step-") and n not in seen:
                    seen.add(n)
                    if len(seen) >= int(arg):
                        p.kill()
                        what = str(int(n[5:14]))
                        break
            if what != "-":
                break
            if time.time() - t0 > timeout:
                p.kill()
                what = "timeout"
    rc = p.wait()
    print(p.pid, 128 - rc if rc < 0 else rc, what)

def options(meta):
    o = json.loads(meta.get("vkgan.options", "{}"))
    for k in ("out", "resume", "quiet"):
        o.pop(k, None)
    return o

def compare(ref, run):
    """The checkpoints both hold (tensors byte for byte, metadata but vkgan.seconds and the run
    directory's own options), metrics.csv and metrics.jsonl but the time columns, the PNGs."""
    bad = []
    ck = lambda d: sorted(n for n in os.listdir(os.path.join(d, "checkpoints"))
                          if n.endswith(".safetensors"))
    a, b = ck(ref), ck(run)
    if a != b:
        bad.append("checkpoints differ: reference %s, tortured %s" % (a, b))
    ntensors = 0
    for n in sorted(set(a) & set(b)):
        ma, ta = read_st(os.path.join(ref, "checkpoints", n))
        mb, tb = read_st(os.path.join(run, "checkpoints", n))
        if set(ta) != set(tb):
            bad.append("%s: tensor names differ" % n)
        diff = [k for k in ta if k in tb and ta[k] != tb[k]]
        ntensors += len(ta)
        if diff:
            bad.append("%s: %d of %d tensors differ (%s)" % (n, len(diff), len(ta),
                                                           ", ".join(diff[:4])))
        for k in sorted(set(ma) | set(mb)):
            if k == "vkgan.seconds":
                continue
            same = options(ma) == options(mb) if k == "vkgan.options" else ma.get(k) == mb.get(k)
            if not same:
                bad.append("%s: metadata %s differs" % (n, k))
    print("checkpoints compared: %d (%d tensors)" % (len(set(a) & set(b)), ntensors))
    if a and a[-1] in b:
        ta, tb = read_st(os.path.join(ref, "checkpoints", a[-1]))[1], \
                 read_st(os.path.join(run, "checkpoints", a[-1]))[1]
        print("final checkpoint %s: %s" % (a[-1], "%d tensors byte-identical" % len(ta)
              if ta == tb else "TENSORS DIFFER"))
    for log in ("metrics.csv", "metrics.jsonl"):
        def rows(d):
            """(header?, [(step, kind, the columns that do not depend on time)])"""
            lines = open(os.path.join(d, log)).read().splitlines()
            head = log.endswith(".jsonl") or (lines[:1] == [CSV_HEADER])
            out = []
            for line in lines[1:] if log.endswith(".csv") and head else lines:
                if log.endswith(".jsonl"):
                    r = json.loads(line)
                    r.pop("seconds", None)
                    r.pop("images_per_s", None)
                    kind = "metrics" if "loss_d" in r else r.get("event", "quality")
                    out.append((r["step"], kind, json.dumps(r, sort_keys=True)))
                else:
                    f = line.split(",")
                    out.append((int(f[0]), "metrics", ",".join(f[:2] + f[4:])))
            return head, out
        (ha, ra), (hb, rb) = rows(ref), rows(run)
        if ha and not hb:
            bad.append("%s: the header line is missing" % log)
        if ra != rb:
            ka = {(s, k): v for s, k, v in ra}
            kb = {(s, k): v for s, k, v in rb}
            missing = sorted(k for k in ka if k not in kb)
            extra = sorted(k for k in kb if k not in ka)
            differ = sorted(k for k in ka if k in kb and ka[k] != kb[k])
            show = lambda ks: " ".join(str(s) if k == "metrics" else "%s(%s)" % (s, k)
                                       for s, k in ks[:20]) + (" ..." if len(ks) > 20 else "")
            if missing:
                bad.append("%s: %d reference line(s) missing, steps %s" % (log, len(missing),
                                                                          show(missing)))
            if extra:
                bad.append("%s: %d line(s) not in the reference, steps %s" % (log, len(extra),
                                                                             show(extra)))
            if differ:
                bad.append("%s: %d line(s) with other values, steps %s" % (log, len(differ),
                                                                          show(differ)))
                s, k = differ[0]
                bad.append("  step %d reference: %.100s" % (s, ka[(s, k)]))
                bad.append("  step %d tortured:  %.100s" % (s, kb[(s, k)]))
            if not (missing or extra or differ):
                bad.append("%s: the same lines in another order" % log)
        print("%s: %d lines compared" % (log, len(ra)))
    pngs = lambda d: sorted(os.path.relpath(os.path.join(r, n), d) for r, _, ns in os.walk(d)
                            for n in ns if n.endswith(".png"))
    pa, pb = pngs(ref), pngs(run)
    if pa != pb:
        bad.append("PNG files differ: %s vs %s" % (pa, pb))
    for p in sorted(set(pa) & set(pb)):
        if open(os.path.join(ref, p), "rb").read() != open(os.path.join(run, p), "rb").read():
            bad.append("%s differs" % p)
    print("PNGs compared: %d" % len(set(pa) & set(pb)))
    for x in bad:
        print("MISMATCH " + x)

def st_size(d):
    ck = os.path.join(d, "checkpoints")
    names = [n for n in os.listdir(ck) if n.endswith(".safetensors")]
    other = 0
    for root, _, ns in os.walk(d):
        if root != ck:
            other += sum(os.path.getsize(os.path.join(root, n)) for n in ns)
    print(os.path.getsize(os.path.join(ck, names[0])), len(names), other)

cmd = sys.argv[1]
if cmd == "check":
    check_dir(sys.argv[2], sys.argv[3] == "strict")
elif cmd == "newest":
    newest(sys.argv[2])
elif cmd == "round":
    kill_round(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6:])
elif cmd == "compare":
    compare(sys.argv[2], sys.argv[3])
elif cmd == "sizes":
    st_size(sys.argv[2])
PYEOF

# ---------------------------------------------------------------------------------------------
TOTAL_ROUNDS=0 CKPT_ROUNDS=0 CKPT_KILLS=0 STALE_LEFT=0 FILES_CHECKED=0 TORN=0
FRESH_RESTARTS=0 EARLY_END=0
declare -A TMP_SET=()  # every temporary file seen after a kill (path -> 1)
TMP_LIST=()

# check DIR MODE(loose|strict) LABEL: parses the directory; adds to the counters; sets CHECK_TMP.
check() {
    local out first
    out=$(python3 "$PY" check "$1" "$2")
    first=${out%%$'\n'*}
    local files torn tmp errs
    read -r files torn tmp errs <<<"$(sed -E 's/[a-z]+=//g' <<<"$first")"
    FILES_CHECKED=$((FILES_CHECKED + files))
    TORN=$((TORN + torn))
    CHECK_TMP=$tmp
    if [ "$errs" != 0 ]; then
        while IFS= read -r line; do fail "$3: $line"; done < <(tail -n +2 <<<"$out")
    fi
    CHECK_FILES=$files CHECK_TORN=$torn
}

# The temporary files seen after kills must all be gone by now (a restart removes them).
stale_gone() {
    local what=$1 f
    for f in "${TMP_LIST[@]}"; do
        if [ -e "$f" ]; then
            STALE_LEFT=$((STALE_LEFT + 1))
            fail "$what: the stale temporary file $f is still there"
        fi
    done
    TMP_LIST=()
}

# compare REF RUN LABEL
compare() {
    local out
    out=$(python3 "$PY" compare "$1" "$2")
    grep -v '^MISMATCH' <<<"$out" | sed 's/^/  /' || true
    while IFS= read -r line; do
        fail "$3: ${line#MISMATCH }"
    done < <(grep '^MISMATCH' <<<"$out" || true)
}

# torture NAME ROUNDS STEPS DELAY_MIN_MS DELAY_SPAN_MS NTH_MAX ARGS...: the straight run, then
# the killed ones: odd rounds after a random delay, even ones during the 1st..NTH_MAX-th
# checkpoint write after the start (so that the kills spread over the run).
torture() {
    local name=$1 rounds=$2 steps=$3 dmin=$4 dspan=$5 nmax=$6
    shift 6
    local args=("$@" --steps "$steps")
    local base="$WORK/$name" ref="$WORK/$name/straight" dir="$WORK/$name/tortured"
    mkdir -p "$base"
    TMP_LIST=()
    echo "== $name: vkgan train ${args[*]}"
    local t=$SECONDS rc=0
    "$VKGAN" train "${args[@]}" --quiet --out "$ref" >"$base/straight.log" 2>&1 || rc=$?
    if [ $rc != 0 ]; then
        fail "$name: the straight run exited $rc: $(tail -n 3 "$base/straight.log")"
        return
    fi
    echo "  straight run: $((SECONDS - t)) s"
    t=$SECONDS
    local r from said how killed pid log got
    for ((r = 1; r <= rounds; r++)); do
        from=$(python3 "$PY" newest "$dir")
        log="$base/round-$r.log"
        local cmd=("$VKGAN" train --resume "$dir" --steps "$steps")
        if [ ! -f "$dir/config.json" ]; then
            # killed before its config.json: not resumable, the same command starts it over
            if [ $r -gt 1 ]; then FRESH_RESTARTS=$((FRESH_RESTARTS + 1)); fi
            cmd=("$VKGAN" train "${args[@]}" --quiet --out "$dir")
            from="new"
        elif [ "$from" = -1 ]; then
            from=0
        fi
        if ((r % 2)); then
            local ms=$((dmin + RANDOM % dspan))
            how=$(printf "random %d.%03ds" $((ms / 1000)) $((ms % 1000)))
            read -r pid rc got < <(python3 "$PY" round random "$ms" "$dir" "$log" "${cmd[@]}") ||
                true
        else
            local nth=$((1 + RANDOM % nmax))
            CKPT_ROUNDS=$((CKPT_ROUNDS + 1))
            read -r pid rc got < <(python3 "$PY" round tmp "$nth" "$dir" "$log" "${cmd[@]}") ||
                true
            how="checkpoint write #$nth (step $got)"
        fi
        if ! [[ "$rc" =~ ^[0-9]+$ ]]; then
            fail "$name round $r: the kill helper failed"
            return
        fi
        killed=$(python3 "$PY" newest "$dir")
        check "$dir" loose "$name round $r"
        TOTAL_ROUNDS=$((TOTAL_ROUNDS + 1))
        local ck_tmp=no
        if [ "$CHECK_TMP" != - ]; then
            for f in ${CHECK_TMP//,/ }; do
                f="$dir/${f%(*}"
                if [ -z "${TMP_SET[$f]:-}" ]; then TMP_SET[$f]=1; TMP_LIST+=("$f"); fi
                # this kill's own temporary checkpoint (a stale one may still be there when the
                # kill came before the start removed it)
                if [[ "$f" == */checkpoints/*.tmp$pid ]]; then ck_tmp=yes; fi
            done
        fi
        if [ $ck_tmp = yes ]; then CKPT_KILLS=$((CKPT_KILLS + 1)); fi
        said=$(sed -nE 's/^resuming .* from step ([0-9]+)$/\1/p
                        s/.*holds no checkpoint yet.*/0/p' "$log")
        if [ -n "$said" ] && [ "$said" != "$from" ]; then
            fail "$name round $r: vkgan resumed from step $said, the newest checkpoint was $from"
        fi
        printf "  round %2d  %-32s from %-4s newest after kill %-4s ckpt tmp %-3s tmp: %s\n" \
            "$r" "$how" "$from" "$killed" "$ck_tmp" "$CHECK_TMP"
        if [ "$rc" = 0 ]; then
            echo "  (the run completed before round $r could kill it)"
            EARLY_END=$((EARLY_END + 1))
            break
        elif [ "$rc" != 137 ]; then
            fail "$name round $r: exit $rc, not 137 (SIGKILL): $(tail -n 2 "$log" | tr '\n' ' ')"
            return
        fi
    done
    if [ "$rc" != 0 ]; then
        from=$(python3 "$PY" newest "$dir")
        rc=0
        if [ -f "$dir/config.json" ]; then
            "$VKGAN" train --resume "$dir" --steps "$steps" >"$base/final.log" 2>&1 || rc=$?
        else
            "$VKGAN" train "${args[@]}" --quiet --out "$dir" >"$base/final.log" 2>&1 || rc=$?
        fi
        echo "  final resume from step $from: exit $rc"
        if [ $rc != 0 ]; then
            fail "$name: the final resume exited $rc: $(tail -n 2 "$base/final.log")"
            return
        fi
    fi
    echo "  tortured run: $((SECONDS - t)) s"
    check "$dir" strict "$name finished"
    echo "  finished run: $CHECK_FILES files parse"
    stale_gone "$name"
    compare "$ref" "$dir" "$name"
}

# The full disk: a tmpfs sized to fill halfway through, then enlarged and the run resumed.
disk_full() {
    local base="$WORK/disk" args=(--data ring8 --batch 64 --mlp-hidden 128 --steps 200
        --log-every 10 --checkpoint-every 10 --sample-every 50 --keep 100 --quiet)
    echo "== full disk: vkgan train ${args[*]} on a small tmpfs"
    mkdir -p "$base/mnt"
    if [ "$(id -u)" != 0 ] || ! mount -t tmpfs -o size=64M tmpfs "$base/mnt" 2>/dev/null; then
        echo "  skipped: mounting a tmpfs is not permitted here (needs root)"
        SKIPPED_DISK=1
        return
    fi
    umount "$base/mnt"
    local rc=0
    "$VKGAN" train "${args[@]}" --out "$base/straight" >"$base/straight.log" 2>&1 || rc=$?
    [ $rc = 0 ] || { fail "disk: the straight run exited $rc"; return; }
    local size count other
    read -r size count other <<<"$(python3 "$PY" sizes "$base/straight")"
    # room for the other files and half the checkpoints, and half of the next one
    local kib=$(((other + size * (count / 2) + size / 2 + 1023) / 1024))
    mount -t tmpfs -o size=${kib}k tmpfs "$base/mnt"
    MOUNTED="$base/mnt"
    rc=0
    "$VKGAN" train "${args[@]}" --out "$base/mnt/run" >"$base/full.out" 2>"$base/full.err" || rc=$?
    local step lines
    step=$(python3 "$PY" newest "$base/mnt/run")
    lines=$(wc -l <"$base/full.err")
    echo "  tmpfs of ${kib} KiB ($count checkpoints of $size bytes in the whole run): exit $rc," \
         "newest checkpoint step $step, stderr $lines line(s):"
    sed 's/^/    /' "$base/full.err"
    [ $rc != 0 ] && [ $rc != 137 ] || fail "disk: exit $rc on a full disk"
    [ "$lines" = 1 ] && grep -q '^vkgan: error: ' "$base/full.err" ||
        fail "disk: the failure is not one 'vkgan: error:' line"
    [ "$step" -gt 0 ] && [ "$step" -lt 200 ] || fail "disk: it did not fill mid-run (step $step)"
    check "$base/mnt/run" loose "disk full"
    echo "  after the failure: $CHECK_FILES files parse, $CHECK_TORN torn line(s), tmp: $CHECK_TMP"
    if [ "$CHECK_TMP" != - ]; then
        for f in ${CHECK_TMP//,/ }; do
            TMP_SET["$base/mnt/run/${f%(*}"]=1
            TMP_LIST+=("$base/mnt/run/${f%(*}")
        done
    fi
    mount -o remount,size=64M "$base/mnt"
    rc=0
    "$VKGAN" train --resume "$base/mnt/run" --quiet >"$base/resume.log" 2>&1 || rc=$?
    echo "  enlarged to 64 MiB, resumed from step $step: exit $rc"
    [ $rc = 0 ] || { fail "disk: the resume exited $rc: $(tail -n 2 "$base/resume.log")"; return; }
    check "$base/mnt/run" strict "disk resumed"
    stale_gone "disk"
    compare "$base/straight" "$base/mnt/run" "disk"
    umount "$base/mnt"
    MOUNTED=""
}

# The full disk again, filled by another file right after a checkpoint, so that an append to the
# metrics logs (a line every step) usually meets it first; the filler deleted, the run resumed.
disk_log() {
    local base="$WORK/disk-log" args=(--data ring8 --batch 256 --mlp-hidden 8 --steps 100
        --log-every 1 --checkpoint-every 50 --sample-every 1000 --keep 2 --quiet)
    echo "== full disk during a log write: vkgan train ${args[*]} on a tmpfs filled after step 50"
    mkdir -p "$base/mnt"
    local rc=0
    "$VKGAN" train "${args[@]}" --out "$base/straight" >"$base/straight.log" 2>&1 || rc=$?
    [ $rc = 0 ] || { fail "disk-log: the straight run exited $rc"; return; }
    mount -t tmpfs -o size=1M tmpfs "$base/mnt"
    MOUNTED="$base/mnt"
    "$VKGAN" train "${args[@]}" --out "$base/mnt/run" >"$base/full.out" 2>"$base/full.err" &
    local pid=$! n=0
    while [ ! -e "$base/mnt/run/checkpoints/step-000000050.safetensors" ] && [ $n -lt 6000 ]; do
        sleep 0.01
        n=$((n + 1))
    done
    dd if=/dev/zero of="$base/mnt/filler" bs=4k 2>/dev/null || true
    rc=0
    wait "$pid" || rc=$?
    local step lines
    step=$(python3 "$PY" newest "$base/mnt/run")
    lines=$(wc -l <"$base/full.err")
    echo "  exit $rc, newest checkpoint step $step, stderr $lines line(s):"
    sed 's/^/    /' "$base/full.err"
    [ $rc != 0 ] && [ $rc != 137 ] || fail "disk-log: exit $rc on a full disk"
    [ "$lines" = 1 ] && grep -q '^vkgan: error: ' "$base/full.err" ||
        fail "disk-log: the failure is not one 'vkgan: error:' line"
    check "$base/mnt/run" loose "disk-log full"
    echo "  after the failure: $CHECK_FILES files parse, $CHECK_TORN torn line(s), tmp: $CHECK_TMP"
    rm -f "$base/mnt/filler"
    rc=0
    "$VKGAN" train --resume "$base/mnt/run" --quiet >"$base/resume.log" 2>&1 || rc=$?
    echo "  filler deleted, resumed from step $step: exit $rc"
    if [ $rc != 0 ]; then
        fail "disk-log: the resume exited $rc: $(tail -n 2 "$base/resume.log")"
        return
    fi
    check "$base/mnt/run" strict "disk-log resumed"
    compare "$base/straight" "$base/mnt/run" "disk-log"
    umount "$base/mnt"
    MOUNTED=""
}

echo "vkgan torture: work directory $WORK, seed $SEED, $(nproc) cores," \
     "VK_DRIVER_FILES=${VK_DRIVER_FILES:-unset}"
if [ "$ROUNDS" -gt 0 ]; then
    torture ring8 "$ROUNDS" "$STEPS" 200 3800 6 --data ring8 --batch 8 --mlp-hidden 8 \
        --log-every 5 --checkpoint-every 7 --keep 2
fi
if [ "$DC_ROUNDS" -gt 0 ]; then
    torture dcgan "$DC_ROUNDS" "$DC_STEPS" 3000 6000 4 --data fashion-mnist --g-width 4 \
        --d-width 6 --latent 8 --batch 16 --classifier none --log-every 5 --checkpoint-every 7 \
        --keep 2
fi
if [ "$DISK" = 1 ]; then
    disk_full
    if [ -z "$SKIPPED_DISK" ]; then disk_log; fi
fi

echo "== summary"
echo "rounds: $TOTAL_ROUNDS kills ($EARLY_END run(s) ended before the last kill)"
echo "kills aimed at a checkpoint write: $CKPT_ROUNDS;" \
     "kills that left their checkpoint temporary file: $CKPT_KILLS"
echo "temporary files seen after kills (and the full disk): ${#TMP_SET[@]};" \
     "still there at the end: $STALE_LEFT"
echo "restarts with --out (killed before config.json): $FRESH_RESTARTS"
echo "files parsed: $FILES_CHECKED; torn log lines: $TORN"
echo "time: $((SECONDS - T0)) s"
if [ ${#FAILS[@]} = 0 ]; then
    echo "PASS"
    [ "$KEEP" = 1 ] || rm -rf "$WORK"
    exit 0
fi
echo "failures: ${#FAILS[@]} (work directory kept: $WORK)"
for f in "${FAILS[@]}"; do echo "  $f"; done
echo "FAIL"
exit 1
