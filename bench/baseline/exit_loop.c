/* exit_loop: the C baseline for femtovm's MMIO-exit benchmark.
 *
 * Runs the same flat guest binary femtovm runs (e.g. guests/<arch>/mmio-loop.bin), under KVM, on
 * the platform of docs/platform.md with the same vCPU setup as femtovm, and times nothing but the
 * KVM_RUN loop, with every exit handled in the cheapest way: an MMIO write or a port write is
 * counted and the vCPU resumed; HLT (x86) or PSCI SYSTEM_OFF/RESET (aarch64) ends the run.
 *
 *   usage:  exit_loop <guest.bin> <count>      count goes to ecx (x86-64) / x0 (aarch64)
 *   output: one JSON line {"exits":N,"seconds":S,"usPerExit":U}
 *           exits = number of KVM_RUN returns (the final HLT/SYSTEM_OFF included), seconds =
 *           CLOCK_MONOTONIC time of the run loop only, usPerExit = seconds * 1e6 / exits.
 *   errors: message on stderr, exit status 1 (no /dev/kvm, unexpected exit, ...); 2 for usage.
 *
 * Build (only libc and <linux/kvm.h>):  cc -O2 -o exit_loop exit_loop.c   (or `make`)
 *   the aarch64 part compiles with aarch64-linux-gnu-gcc -O2 -o exit_loop exit_loop.c
 *
 * x86-64: 16-bit real mode (cs = ds = es = fs = gs = ss = 0, rip = 0x1000, rflags = 0x2), one RAM
 *   slot at GPA [0x1000, 1 MiB): page 0 is unmapped, so 0x0-0xfff (0x900, 0x996) are MMIO.
 * aarch64: RAM at GPA [0x10000, 0x20000) (64 KiB), KVM_ARM_PREFERRED_TARGET + KVM_ARM_VCPU_INIT
 *   with KVM_ARM_VCPU_PSCI_0_2, PC = 0x10000, PSTATE = 0x3c5 (EL1h, DAIF masked), SP_EL1 = top of RAM.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#if defined(__x86_64__)
#define RAM_BASE 0x1000ull            /* page 0 is the MMIO window */
#define RAM_SIZE (0x100000ull - 0x1000ull)
#define LOAD_ADDR 0x1000ull
#elif defined(__aarch64__)
#define RAM_BASE 0x10000ull
#define RAM_SIZE 0x10000ull
#define LOAD_ADDR 0x10000ull
#else
#error "exit_loop supports x86-64 and aarch64 hosts only"
#endif

__attribute__((noreturn, format(printf, 1, 2)))
static void die(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("exit_loop: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static int xioctl(int fd, unsigned long req, void *arg, const char *what) {
    int r = ioctl(fd, req, arg);
    if (r < 0) die("%s: %s", what, strerror(errno));
    return r;
}

/* Reads the whole guest image into buf (at most max bytes). */
static size_t load_image(const char *path, uint8_t *buf, size_t max) {
    FILE *f = fopen(path, "rb");
    if (!f) die("%s: %s", path, strerror(errno));
    size_t n = fread(buf, 1, max, f);
    if (ferror(f)) die("%s: read error", path);
    if (n == max && fgetc(f) != EOF) die("%s: larger than guest RAM (%zu bytes)", path, max);
    fclose(f);
    if (n == 0) die("%s: empty image", path);
    return n;
}

#if defined(__aarch64__)
static void set_core_reg(int vcpu, uint64_t offset, uint64_t value, const char *what) {
    struct kvm_one_reg reg = {
        .id = KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE | (offset / sizeof(uint32_t)),
        .addr = (uint64_t)(uintptr_t)&value,
    };
    xioctl(vcpu, KVM_SET_ONE_REG, &reg, what);
}
#endif

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s <guest.bin> <count>\n", argv[0]);
        return 2;
    }
    char *end;
    errno = 0;
    unsigned long long count = strtoull(argv[2], &end, 0);
    if (errno || *end || argv[2][0] == '-' || end == argv[2]) die("bad count '%s'", argv[2]);
#if defined(__x86_64__)
    if (count > 0xffffffffull) die("count %llu does not fit in ecx", count);
#endif

    int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (kvm < 0) die("cannot open /dev/kvm: %s", strerror(errno));
    int api = ioctl(kvm, KVM_GET_API_VERSION, NULL);
    if (api != KVM_API_VERSION) die("KVM API version %d, expected %d", api, KVM_API_VERSION);
    int vm = xioctl(kvm, KVM_CREATE_VM, 0, "KVM_CREATE_VM");

    uint8_t *ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (ram == MAP_FAILED) die("mmap guest RAM: %s", strerror(errno));
    load_image(argv[1], ram + (LOAD_ADDR - RAM_BASE), RAM_SIZE - (LOAD_ADDR - RAM_BASE));
    struct kvm_userspace_memory_region region = {
        .slot = 0, .guest_phys_addr = RAM_BASE, .memory_size = RAM_SIZE,
        .userspace_addr = (uint64_t)(uintptr_t)ram,
    };
    xioctl(vm, KVM_SET_USER_MEMORY_REGION, &region, "KVM_SET_USER_MEMORY_REGION");

    int vcpu = xioctl(vm, KVM_CREATE_VCPU, 0, "KVM_CREATE_VCPU");
    int run_size = xioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, NULL, "KVM_GET_VCPU_MMAP_SIZE");
    struct kvm_run *run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
    if (run == MAP_FAILED) die("mmap kvm_run: %s", strerror(errno));

#if defined(__x86_64__)
    struct kvm_sregs sregs;
    xioctl(vcpu, KVM_GET_SREGS, &sregs, "KVM_GET_SREGS");
    sregs.cs.base = 0;
    sregs.cs.selector = 0;
    sregs.ds.base = 0;
    sregs.ds.selector = 0;
    sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
    xioctl(vcpu, KVM_SET_SREGS, &sregs, "KVM_SET_SREGS");
    struct kvm_regs regs;
    memset(&regs, 0, sizeof regs);
    regs.rip = LOAD_ADDR;
    regs.rflags = 0x2;
    regs.rcx = count;
    xioctl(vcpu, KVM_SET_REGS, &regs, "KVM_SET_REGS");
#else
    struct kvm_vcpu_init init;
    memset(&init, 0, sizeof init);
    xioctl(vm, KVM_ARM_PREFERRED_TARGET, &init, "KVM_ARM_PREFERRED_TARGET");
    init.features[0] |= 1u << KVM_ARM_VCPU_PSCI_0_2;
    xioctl(vcpu, KVM_ARM_VCPU_INIT, &init, "KVM_ARM_VCPU_INIT");
    set_core_reg(vcpu, offsetof(struct kvm_regs, regs.pc), LOAD_ADDR, "set PC");
    set_core_reg(vcpu, offsetof(struct kvm_regs, regs.pstate), 0x3c5, "set PSTATE");
    set_core_reg(vcpu, offsetof(struct kvm_regs, sp_el1), RAM_BASE + RAM_SIZE, "set SP_EL1");
    set_core_reg(vcpu, offsetof(struct kvm_regs, regs.regs[0]), count, "set x0");
#endif

    unsigned long long exits = 0;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        if (ioctl(vcpu, KVM_RUN, NULL) < 0) {
            if (errno == EINTR) continue;
            die("KVM_RUN failed after %llu exits: %s", exits, strerror(errno));
        }
        exits++;
        switch (run->exit_reason) {
        case KVM_EXIT_MMIO:
            if (!run->mmio.is_write)
                die("unexpected MMIO read at 0x%llx (%u bytes)", (unsigned long long)run->mmio.phys_addr, run->mmio.len);
            continue;
#if defined(__x86_64__)
        case KVM_EXIT_IO:
            if (run->io.direction != KVM_EXIT_IO_OUT)
                die("unexpected port read from 0x%x", run->io.port);
            continue;
        case KVM_EXIT_HLT:
            break;
        case KVM_EXIT_SHUTDOWN:
            die("KVM_EXIT_SHUTDOWN (triple fault) after %llu exits", exits);
        case KVM_EXIT_FAIL_ENTRY:
            die("KVM_EXIT_FAIL_ENTRY, hardware reason 0x%llx",
                (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
#else
        case KVM_EXIT_SYSTEM_EVENT:
            if (run->system_event.type == KVM_SYSTEM_EVENT_SHUTDOWN ||
                run->system_event.type == KVM_SYSTEM_EVENT_RESET)
                break;
            die("unexpected system event type %u", run->system_event.type);
#endif
        case KVM_EXIT_INTERNAL_ERROR:
            die("KVM_EXIT_INTERNAL_ERROR, suberror %u", run->internal.suberror);
        default:
            die("unexpected exit reason %u after %llu exits", run->exit_reason, exits);
        }
        break;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);

    double seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("{\"exits\":%llu,\"seconds\":%.6f,\"usPerExit\":%.4f}\n", exits, seconds, seconds * 1e6 / (double)exits);
    return 0;
}
