/* Data-parallel training: `mpirun -np 2 vkgan train` on lavapipe (both ranks on the one CPU
 * device) against one process. Skipped, saying so, when vkgan was built without MPI. */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "vkgan/dist.h"
#include "vkgan/data.h"
#include "vkgan/io.h"

/* Open MPI refuses root without these; --oversubscribe: 2 ranks may exceed the cores. Under the
 * sanitizers the ranks do not check for leaks (tools/test.sh's other options kept): Open MPI's
 * components are unloaded by MPI_Finalize with their allocations still held, so no suppression
 * can name them. */
#ifdef VKGAN_SANITIZE
#define NO_MPI_LEAK_CHECK "ASAN_OPTIONS=\"$ASAN_OPTIONS:detect_leaks=0:abort_on_error=0\" "
#else
#define NO_MPI_LEAK_CHECK ""
#endif
#define MPIRUN                                                                                     \
    NO_MPI_LEAK_CHECK                                                                              \
    "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 mpirun --oversubscribe -np"

static int skipped(void) {
    if (dist_available()) return 0;
    test_progress("skipped: vkgan was built without MPI (install libopenmpi-dev and rebuild)");
    return 1;
}

/* Runs `mpirun -np N vkgan ARGS`; its exit code, stdout and stderr in out. */
static int run_ranks(int n, const char *args, char *out, size_t size) {
    char cmd[PATH_MAX + 4600];
    snprintf(cmd, sizeof cmd, "%s %d '%s' %s 2>&1", MPIRUN, n, test_vkgan_path(), args);
    return test_run_shell(cmd, out, size);
}

static const char *checkpoint(const char *dir, int step) {
    char *path = test_alloc(PATH_MAX + 64);
    snprintf(path, PATH_MAX + 64, "%s/checkpoints/step-%09d.safetensors", dir, step);
    return path;
}

/* The tensors' data (all of the file after its JSON header: same model, same order). */
static const unsigned char *tensor_bytes(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    unsigned char *all = NULL;
    long size = f && fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
    if (size > 8 && fseek(f, 0, SEEK_SET) == 0 && (all = test_alloc((size_t)size)) &&
        fread(all, 1, (size_t)size, f) == (size_t)size) {
        uint64_t header = 0;
        for (int i = 7; i >= 0; i--) header = header << 8 | all[i];
        *n = (size_t)size - 8 - (size_t)header;
    } else {
        all = NULL;
    }
    if (f) fclose(f);
    return all ? all + (size - (long)*n) : NULL;
}

/* ||a - b|| / ||a|| over the weights and biases of both models. */
static double weights_distance(const char *a, const char *b) {
    vkg_safetensors *x = vkg_safetensors_read(a), *y = vkg_safetensors_read(b);
    double diff = 0, norm = 0;
    int found = 0;
    for (int m = 0; x && y && m < 2; m++)
        for (int layer = 0; layer < 8; layer++)
            for (int k = 0; k < 2; k++) {
                char name[64];
                snprintf(name, sizeof name, "%s.%d.%s", m ? "D" : "G", layer,
                         k ? "bias" : "weight");
                int nx, ny;
                int64_t sx[4], sy[4];
                const float *fx = vkg_safetensors_get(x, name, VKG_F32, &nx, sx);
                const float *fy = vkg_safetensors_get(y, name, VKG_F32, &ny, sy);
                if (!fx || !fy) continue;
                size_t count = 1;
                for (int i = 0; i < nx; i++) count *= (size_t)sx[i];
                for (size_t i = 0; i < count; i++) {
                    float u, v;
                    memcpy(&u, fx + i, 4), memcpy(&v, fy + i, 4);
                    diff += ((double)u - v) * ((double)u - v), norm += (double)u * u;
                }
                found++;
            }
    vkg_safetensors_free(x);
    vkg_safetensors_free(y);
    return found ? sqrt(diff / norm) : INFINITY;
}

#define RING8 "train --data ring8 --batch 64 --latent 8 --mlp-hidden 16 --quiet"

#define DCGAN                                                                                      \
    "train --data fashion-mnist --batch 8 --g-width 4 --d-width 4 --latent 8 --health-every 0 "    \
    "--quiet"

/* With --sync-bn the 2-rank step is the step of one process at the same global batch (batch
 * statistics and gradients of the two halves summed), up to the order of the sums: 4 steps of a
 * DCGAN agree to 1e-5 (relative). */
TEST(mpi_sync_bn_two_ranks_train_as_one_process) {
    if (skipped()) return;
    CHECK(access(VKG_FASHION_MNIST_DIR "/train-images-idx3-ubyte.gz", R_OK) == 0,
          "Fashion-MNIST is missing (tools/setup.sh installs dataset-fashion-mnist)");
    char one[PATH_MAX], two[PATH_MAX], args[PATH_MAX + 300], out[8192];
    snprintf(one, sizeof one, "%s/one", test_tmpdir());
    snprintf(two, sizeof two, "%s/two", test_tmpdir());
    snprintf(args, sizeof args, DCGAN " --steps 4 --log-every 2 --out %s", one);
    CHECK(test_run_vkgan("", args, out, sizeof out) == 0, "one process: %s", out);
    snprintf(args, sizeof args, DCGAN " --steps 4 --log-every 2 --sync-bn --out %s", two);
    CHECK(run_ranks(2, args, out, sizeof out) == 0, "2 ranks: %s", out);
    double d = weights_distance(checkpoint(one, 4), checkpoint(two, 4));
    CHECK(d < 1e-5, "2 ranks and one process at batch 8 differ by %g (relative) after 4 steps", d);
    /* rank 0 alone wrote the run directory, as one process does, with the averaged losses */
    snprintf(args, sizeof args, "%s/metrics.csv", two);
    char *metrics = test_read_text(args);
    CHECK(metrics && strstr(metrics, "\n4,"), "2 ranks: no metrics line of step 4");
}

/* The same ranks twice give the same bits (the sums across ranks run in rank order). */
TEST(mpi_same_ranks_twice_is_bit_exact) {
    if (skipped()) return;
    char a[PATH_MAX], b[PATH_MAX], args[PATH_MAX + 200], out[8192];
    snprintf(a, sizeof a, "%s/a", test_tmpdir());
    snprintf(b, sizeof b, "%s/b", test_tmpdir());
    snprintf(args, sizeof args, RING8 " --steps 10 --d-steps 2 --instance-noise 0.1 --out %s", a);
    CHECK(run_ranks(2, args, out, sizeof out) == 0, "first run: %s", out);
    snprintf(args, sizeof args, RING8 " --steps 10 --d-steps 2 --instance-noise 0.1 --out %s", b);
    CHECK(run_ranks(2, args, out, sizeof out) == 0, "second run: %s", out);
    size_t na = 0, nb = 0;
    const unsigned char *x = tensor_bytes(checkpoint(a, 10), &na),
                        *y = tensor_bytes(checkpoint(b, 10), &nb);
    CHECK(x && y && na == nb && na > 0, "the checkpoints do not read alike");
    CHECK(memcmp(x, y, na) == 0, "two 2-rank runs differ");
}

/* A DCGAN (batch norm with per-rank statistics) trains on 2 ranks; its checkpoint resumes both
 * in one process and on 2 ranks, since the data order and the draws follow the global example
 * index. */
TEST(mpi_checkpoint_resumes_in_one_process_and_on_two_ranks) {
    if (skipped()) return;
    CHECK(access(VKG_FASHION_MNIST_DIR "/train-images-idx3-ubyte.gz", R_OK) == 0,
          "Fashion-MNIST is missing (tools/setup.sh installs dataset-fashion-mnist)");
    char a[PATH_MAX], b[PATH_MAX], args[2 * PATH_MAX + 300], out[8192];
    snprintf(a, sizeof a, "%s/a", test_tmpdir());
    snprintf(b, sizeof b, "%s/b", test_tmpdir());
    snprintf(args, sizeof args,
             "train --data fashion-mnist --batch 8 --g-width 4 --d-width 4 --latent 8 "
             "--health-every 0 --checkpoint-every 2 --quiet --steps 4 --out %s",
             a);
    CHECK(run_ranks(2, args, out, sizeof out) == 0, "2 ranks: %s", out);
    CHECK(access(checkpoint(a, 4), R_OK) == 0, "2 ranks wrote no checkpoint at step 4");
    snprintf(args, sizeof args, "cp -r '%s' '%s'", a, b);
    CHECK(system(args) == 0, "cannot copy the run directory");
    snprintf(args, sizeof args, "train --resume %s --steps 6 --quiet", a);
    CHECK(test_run_vkgan("", args, out, sizeof out) == 0, "resumed in one process: %s", out);
    snprintf(args, sizeof args, "train --resume %s --steps 6 --quiet", b);
    CHECK(run_ranks(2, args, out, sizeof out) == 0, "resumed on 2 ranks: %s", out);
    CHECK(access(checkpoint(a, 6), R_OK) == 0 && access(checkpoint(b, 6), R_OK) == 0,
          "a resumed run wrote no checkpoint at step 6");
    double d = weights_distance(checkpoint(a, 6), checkpoint(b, 6));
    CHECK(isfinite(d), "the resumed checkpoints do not read alike");
}

/* The PID of the rank `rank` that mpirun `parent` started (0 while there is none). */
static int rank_pid(int parent, int rank) {
    char want[64];
    snprintf(want, sizeof want, "OMPI_COMM_WORLD_RANK=%d", rank);
    DIR *d = opendir("/proc");
    int found = 0;
    for (struct dirent *e; d && !found && (e = readdir(d));) {
        int pid = atoi(e->d_name), ppid = 0;
        char path[300], env[65536];
        snprintf(path, sizeof path, "/proc/%d/stat", pid);
        FILE *f = pid > 0 ? fopen(path, "r") : NULL;
        if (!f) continue;
        if (fscanf(f, "%*d (%*[^)]) %*c %d", &ppid) != 1) ppid = 0;
        fclose(f);
        if (ppid != parent) continue;
        snprintf(path, sizeof path, "/proc/%d/environ", pid);
        if (!(f = fopen(path, "r"))) continue;
        size_t n = fread(env, 1, sizeof env - 1, f);
        fclose(f);
        for (size_t i = 0; i < n; i += strlen(env + i) + 1) {
            env[n] = 0;
            if (strcmp(env + i, want) == 0) found = pid;
        }
    }
    if (d) closedir(d);
    return found;
}

/* A rank killed mid-run: mpirun ends the run with a line naming the rank (no hang), and the run
 * directory resumes from its last checkpoint in one process. */
TEST(mpi_killed_rank_leaves_a_resumable_run) {
    if (skipped()) return;
    char dir[PATH_MAX], cmd[PATH_MAX * 2 + 400], err[PATH_MAX], out[8192];
    snprintf(dir, sizeof dir, "%s/run", test_tmpdir());
    snprintf(err, sizeof err, "%s/stderr.txt", test_tmpdir());
    snprintf(cmd, sizeof cmd,
             "exec env %s 2 '%s' " RING8 " --steps 1000000 --checkpoint-every 5 --out %s 2>%s",
             MPIRUN, test_vkgan_path(), dir, err); /* env: MPIRUN begins with assignments */
    pid_t pid = fork();
    if (pid == 0) {
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    CHECK(pid > 0, "cannot start mpirun");
    CHECK(test_wait_for_file(checkpoint(dir, 5), pid) == 0, "mpirun ended before step 5");
    int victim = 0;
    while (!(victim = rank_pid(pid, 1)) && waitpid(pid, NULL, WNOHANG) == 0) {
    }
    CHECK(victim > 0 && kill(victim, SIGKILL) == 0, "rank 1 was not found");
    int status;
    CHECK(waitpid(pid, &status, 0) == pid, "mpirun was lost");
    CHECK(!WIFEXITED(status) || WEXITSTATUS(status) != 0, "mpirun succeeded after a rank died");
    char *text = test_read_text(err);
    CHECK(text && strstr(text, "rank 1"), "no line names the dead rank: %s", text ? text : "");
    /* mpirun returns once it has signalled the other ranks, not when they have ended (rank 0 was
     * seen alive 7 ms later, longer under load): a resume until then is rightly refused as "in
     * use". Rank 0 ending releases the run's lock, so wait for that event. */
    snprintf(cmd, sizeof cmd, "%s/train.lock", dir);
    int lock = open(cmd, O_RDONLY | O_CLOEXEC);
    CHECK(lock >= 0 && flock(lock, LOCK_EX) == 0, "cannot wait for %s", cmd);
    close(lock);
    int newest = 0;
    snprintf(cmd, sizeof cmd, "%s/checkpoints", dir);
    DIR *d = opendir(cmd);
    for (struct dirent *e; d && (e = readdir(d));) {
        int step;
        if (sscanf(e->d_name, "step-%d.safetensors", &step) == 1 && step > newest) newest = step;
    }
    if (d) closedir(d);
    CHECK(newest >= 5, "no checkpoint is left");
    snprintf(cmd, sizeof cmd, "train --resume %s --steps %d --quiet", dir, newest + 2);
    CHECK(test_run_vkgan("", cmd, out, sizeof out) == 0, "the resume failed: %s", out);
    CHECK(access(checkpoint(dir, newest + 2), R_OK) == 0, "the resumed run wrote no checkpoint");
}

/* Replicas that diverge (G frozen on rank 0 alone by a fault injected there) are caught at the
 * next comparison of the ranks' weights (step 100) with one error naming the rank. */
TEST(mpi_diverged_replicas_are_one_error) {
    if (skipped()) return;
    char args[PATH_MAX + 300], out[16384];
    snprintf(args, sizeof args, RING8 " --steps 150 --log-every 50 --out %s/run", test_tmpdir());
    char cmd[2 * PATH_MAX + 400];
    snprintf(cmd, sizeof cmd, "VKGAN_FAULT=freeze-g@3 %s 2 '%s' %s 2>&1", MPIRUN, test_vkgan_path(),
             args);
    int rc = test_run_shell(cmd, out, sizeof out);
    CHECK(rc != 0, "the run went on with diverged replicas: %s", out);
    CHECK(strstr(out, "at step 100 the weights of rank 1 differ from rank 0's"),
          "no error names the diverged rank: %s", out);
}

/* What the ranks cannot split is refused before any device work: exit code 2, the one line said
 * once (by rank 0), no run directory; likewise a --device list that is not one entry per rank,
 * and (in one process) a --device list at all. */
TEST(mpi_refusals_are_one_line_and_usage_errors) {
    if (skipped()) return;
    static const struct {
        const char *args, *says;
    } cases[] = {
        {"--batch 15", "--batch 15: 2 ranks split the batch evenly"},
        {"--feature-matching", "--feature-matching runs in one process only"},
        {"--virtual-bn", "--virtual-bn runs in one process only"},
        {"--device 0,0,0", "one device per rank, 3 entries for 2 ranks"},
        {"--device 0,,", "one device per rank"},
    };
    char out[8192], args[PATH_MAX + 1024], dir[PATH_MAX];
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        snprintf(dir, sizeof dir, "%s/refused%zu", test_tmpdir(), i);
        snprintf(args, sizeof args, RING8 " --steps 5 --out '%s' %s", dir, cases[i].args);
        CHECK(run_ranks(2, args, out, sizeof out) == 2, "%s: not a usage error: %s", cases[i].args,
              out);
        const char *first = strstr(out, cases[i].says);
        CHECK(first, "%s: the message is missing: %s", cases[i].args, out);
        CHECK(!strstr(first + 1, cases[i].says), "%s: said more than once: %s", cases[i].args, out);
        CHECK(access(dir, F_OK) != 0, "%s: %s was made", cases[i].args, dir);
    }
    snprintf(args, sizeof args, RING8 " --steps 5 --device 0,0 --out '%s/one'", test_tmpdir());
    CHECK(test_run_vkgan("", args, out, sizeof out) == 2, "one process, a device list: %s", out);
    CHECK(strstr(out, "needs mpirun"), "one process, a device list: %s", out);
}
