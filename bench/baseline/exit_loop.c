/* exit_loop: the C baselines for `femtovm bench` (docs/bench.md).
 *
 * Runs the same flat guest binaries femtovm runs (guests/<arch>/NAME.bin), under KVM, with the same vCPU
 * setup as femtovm on the platform of README.md, and handles every exit in the cheapest way: an MMIO
 * or port write is counted and the vCPU resumed, a read is answered with the constant 1, HLT (x86) or
 * PSCI SYSTEM_OFF/RESET (aarch64) ends the run. It times only what it is asked to measure.
 *
 *   exit_loop [--latency] <guest.bin> <count>
 *       The exit loop: count goes to ecx (x86-64) / x0 (aarch64), e.g. guests/x86_64/mmio-loop.bin.
 *       Prints {"exits":N,"seconds":S,"usPerExit":U}: exits = KVM_RUN returns (the final HLT or
 *       SYSTEM_OFF included), seconds = CLOCK_MONOTONIC time of the run loop only.
 *       --latency adds "latencyNs":[...], the time between consecutive KVM_RUN returns (one
 *       clock_gettime per exit, kept in a preallocated array).
 *
 *   exit_loop --vms N [--threads T] [--alive K] <guest.bin>
 *       The swarm: creates, runs to its end and destroys N VMs of the guest (e.g. hello.bin), spread
 *       over T threads (default 1), after opening K idle VMs that stay alive meanwhile (default 0).
 *       Prints {"vms":N,"threads":T,"alive":K,"seconds":S,"vmsPerSecond":V,"cycleNs":[...]}: seconds
 *       from the threads' start to the last VM destroyed; cycleNs, each VM's create+run+destroy time.
 *
 *   exit_loop --kick N <spin.bin>
 *       Stop latency: a vCPU thread runs the never-exiting guest; N times the main thread waits 1-3 ms,
 *       then kicks it the way femtovm does (kvm_run->immediate_exit = 1, then a signal whose no-op
 *       handler has no SA_RESTART, so KVM_RUN returns EINTR) and waits on a futex for the vCPU thread
 *       to report it has left KVM_RUN. Prints {"kicks":N,"exitNs":[...],"ackNs":[...]}: kick to
 *       KVM_RUN returning on the vCPU thread, and kick to the main thread knowing it.
 *
 *   exit_loop [--coalesced mmio|pio:ADDR:SIZE] [--doorbell mmio|pio:ADDR:SIZE] <guest.bin> <count>
 *       The same loop with the exit-free mechanisms femtovm offers: --coalesced registers the range
 *       with KVM_REGISTER_COALESCED_MMIO and drains KVM's ring after every exit (each write counted
 *       as handled); --doorbell registers a KVM_IOEVENTFD on an eventfd for writes of SIZE bytes
 *       there, which a second thread waits on and reads, as a VMM's event loop would. The JSON adds "coalesced" and "doorbell": writes that reached
 *       user space that way. In-kernel exits (CPUID, HVC, a trapped MRS) need no flag: the loop
 *       only sees the guest's end.
 *
 *   exit_loop [--pm-timer] [--vgic] [--irqchip] [--long] [--irq-device ADDR] <guest.bin> <count>
 *       --pm-timer answers port reads with the ACPI PM timer (24 bits at 3.579545 MHz from
 *       CLOCK_MONOTONIC), as femtovm's pm-timer device and QEMU do. --vgic (aarch64) gives the VM an
 *       in-kernel GICv3 at femtovm's addresses (distributor 0x80000000, redistributor 0x80010000).
 *       --irqchip (x86-64) gives it KVM's PIC, IOAPIC and LAPIC (KVM_CREATE_IRQCHIP); HLT then stays
 *       in the kernel, so the run ends at the guest's first MMIO write (its report), as femtovm's
 *       maxExits 1 does. --irq-device ADDR: a guest MMIO write to ADDR raises the vCPU's interrupt
 *       line, a write to 0x9f8 lowers it, as femtovm's `interrupt` native device and acknowledge do
 *       (aarch64: KVM_IRQ_LINE with the CPU irq type; x86-64: vector 0x20 with KVM_INTERRUPT once the
 *       guest can take it, and HLT with IF set waits for it). --long (x86-64) starts the guest in long mode as femtovm does: a flat GDT
 *       and page tables identity-mapping 4 GiB with 2 MiB pages in the top 7 pages of RAM, RSP
 *       below them.
 *
 *   exit_loop [--long] --irqfd ADDR <guest.bin> <count>
 *       A guest MMIO write to ADDR signals an eventfd bound to the in-kernel irqchip with KVM_IRQFD,
 *       as femtovm's `interrupt` device does on a VM with `irqfd`; KVM injects the interrupt and the
 *       guest's EOI is answered in the kernel. Implies the arch's in-kernel irqchip: aarch64 the vGICv3
 *       of --vgic with INTID 32 made edge-triggered (GSI 0); x86-64 that of --irqchip with an MSI route
 *       at GSI 24 to vector 0x20 and the LAPIC software-enabled, as femtovm sets them up.
 *
 *   errors: message on stderr, exit status 1 (no /dev/kvm, unexpected exit, ...); 2 for usage.
 *
 * Build (libc, pthreads and <linux/kvm.h>):  cc -O2 -pthread -o exit_loop exit_loop.c   (or `make`)
 *   the aarch64 part compiles with aarch64-linux-gnu-gcc -O2 -pthread -o exit_loop exit_loop.c
 *
 * x86-64: 16-bit real mode (cs = ds = es = fs = gs = ss = 0, rip = 0x1000, rflags = 0x2), one RAM
 *   slot at GPA [0x1000, 1 MiB): page 0 is unmapped, so 0x0-0xfff (0x900, 0x996) are MMIO;
 *   KVM_SET_TSS_ADDR as femtovm does.
 * aarch64: RAM at GPA [0x10000, 0x20000) (64 KiB), KVM_ARM_PREFERRED_TARGET + KVM_ARM_VCPU_INIT
 *   with KVM_ARM_VCPU_PSCI_0_2, PC = 0x10000, PSTATE = 0x3c5 (EL1h, DAIF masked), SP_EL1 = top of RAM.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
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

__attribute__((noreturn))
static void usage(void) {
    fputs("usage: exit_loop [--latency] <guest.bin> <count>\n"
          "       exit_loop [--coalesced mmio|pio:ADDR:SIZE] [--doorbell mmio|pio:ADDR:SIZE] <guest.bin> <count>\n"
          "       exit_loop [--pm-timer] [--vgic] [--irqchip] [--long] [--irq-device ADDR] <guest.bin> <count>\n"
          "       exit_loop [--long] --irqfd ADDR <guest.bin> <count>\n"
          "       exit_loop --vms N [--threads T] [--alive K] <guest.bin>\n"
          "       exit_loop --kick N <spin.bin>\n", stderr);
    exit(2);
}

static int xioctl(int fd, unsigned long req, void *arg, const char *what) {
    int r = ioctl(fd, req, arg);
    if (r < 0) die("%s: %s", what, strerror(errno));
    return r;
}

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static unsigned long long parse_count(const char *text, const char *what) {
    char *end;
    errno = 0;
    unsigned long long n = strtoull(text, &end, 0);
    if (errno || *end || text[0] == '-' || end == text) die("bad %s '%s'", what, text);
    return n;
}

/* The guest image, read once. */
static uint8_t image[RAM_SIZE];
static size_t image_len;

static void load_image(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) die("%s: %s", path, strerror(errno));
    size_t max = RAM_SIZE - (LOAD_ADDR - RAM_BASE);
    image_len = fread(image, 1, max, f);
    if (ferror(f)) die("%s: read error", path);
    if (image_len == max && fgetc(f) != EOF) die("%s: larger than guest RAM (%zu bytes)", path, max);
    fclose(f);
    if (image_len == 0) die("%s: empty image", path);
}

static int kvm_fd = -1;
static int run_size;

static void open_kvm(void) {
    kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (kvm_fd < 0) die("cannot open /dev/kvm: %s", strerror(errno));
    int api = ioctl(kvm_fd, KVM_GET_API_VERSION, NULL);
    if (api != KVM_API_VERSION) die("KVM API version %d, expected %d", api, KVM_API_VERSION);
    run_size = xioctl(kvm_fd, KVM_GET_VCPU_MMAP_SIZE, NULL, "KVM_GET_VCPU_MMAP_SIZE");
}

/* The exit-free mechanisms of the exit loop (--coalesced, --doorbell): kind 0 none, 1 MMIO, 2 port. */
struct zone {
    int kind;
    uint64_t addr;
    uint32_t size;
};
static struct zone coalesced_zone, doorbell_zone;
static int doorbell_fd = -1;
static uint64_t doorbell_rings;          /* read by the doorbell thread */
#define DOORBELL_QUIT (1ull << 40)       /* added to the counter to end the doorbell thread */

/* The VMM's side of a doorbell: woken by each ring (or several coalesced), it reads the count. */
static void *doorbell_thread(void *arg) {
    (void)arg;
    for (;;) {
        uint64_t n;
        if (read(doorbell_fd, &n, sizeof n) != sizeof n) die("read of the doorbell's eventfd: %s", strerror(errno));
        if (n >= DOORBELL_QUIT) {  /* with whatever rang since its last read */
            doorbell_rings += n - DOORBELL_QUIT;
            return NULL;
        }
        doorbell_rings += n;
    }
}
static int pm_timer;  /* --pm-timer */
static int vgic;      /* --vgic */
static int irqchip;   /* --irqchip */
static int long_mode; /* --long */
static uint64_t irq_device;         /* --irq-device ADDR; 0: none */
#if defined(__x86_64__)
static int irq_line, irq_injected;  /* the line, and whether its vector went in */
#endif
#define INTERRUPT_ACK 0x9f8ull
static uint64_t irqfd_device;       /* --irqfd ADDR; 0: none */
static int irqfd_fd = -1;           /* the eventfd bound with KVM_IRQFD */

#if defined(__x86_64__)
/* The ACPI PM timer femtovm's pm-timer device answers (native/vcpu_loop.cc). */
static uint32_t pm_timer_value(void) {
    return (uint32_t)((unsigned __int128)now_ns() * 3579545u / 1000000000u) & 0xffffff;
}
#endif

static struct kvm_coalesced_mmio_ring *coalesced_ring;
static unsigned long long coalesced_writes;

static struct zone parse_zone(const char *text, const char *what) {
    struct zone z = {0, 0, 0};
    char kind[8];
    unsigned long long addr, size;
    if (sscanf(text, "%7[a-z]:%lli:%lli", kind, &addr, &size) != 3 || size == 0 || size > 0x10000)
        die("bad %s '%s' (mmio|pio:ADDR:SIZE)", what, text);
    if (strcmp(kind, "mmio") == 0) z.kind = 1;
    else if (strcmp(kind, "pio") == 0) z.kind = 2;
    else die("bad %s kind '%s' (mmio or pio)", what, kind);
    z.addr = addr;
    z.size = (uint32_t)size;
    return z;
}

/* The writes KVM appended to its coalesced ring, each handled (counted) in order. */
static void drain_coalesced(void) {
    struct kvm_coalesced_mmio_ring *ring = coalesced_ring;
    uint32_t max = (uint32_t)((4096 - 8) / sizeof(struct kvm_coalesced_mmio));
    while (ring->first != __atomic_load_n(&ring->last, __ATOMIC_ACQUIRE)) {
        coalesced_writes++;
        __atomic_store_n(&ring->first, (ring->first + 1) % max, __ATOMIC_RELEASE);
    }
}

/* One VM with one vCPU, the image loaded, the PC at its start. */
struct guest_vm {
    int fd, vcpu;
    uint8_t *ram;
    struct kvm_run *run;
};

#if defined(__aarch64__)
static void vgic_attr(int fd, uint32_t group, uint64_t attr, const void *value, const char *what) {
    struct kvm_device_attr a = { .group = group, .attr = attr, .addr = (uint64_t)(uintptr_t)value };
    xioctl(fd, KVM_SET_DEVICE_ATTR, &a, what);
}

static void set_core_reg(int vcpu, uint64_t offset, uint64_t value, const char *what) {
    struct kvm_one_reg reg = {
        .id = KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE | (offset / sizeof(uint32_t)),
        .addr = (uint64_t)(uintptr_t)&value,
    };
    xioctl(vcpu, KVM_SET_ONE_REG, &reg, what);
}
#endif

#if defined(__x86_64__)
/* Long mode as femtovm sets it up (native/arch_x86_64.cc): tables in the top 7 pages of RAM. */
static void setup_long_mode(struct guest_vm *g, struct kvm_sregs *sregs, struct kvm_regs *regs) {
    uint64_t tables = RAM_BASE + RAM_SIZE - 7 * 4096;
    uint64_t *page = (uint64_t *)(g->ram + (tables - RAM_BASE));
    memset(page, 0, 7 * 4096);
    page[1] = 0x00af9b000000ffffull;  /* GDT: code 0x08, 64-bit */
    page[2] = 0x00cf93000000ffffull;  /* data 0x10 */
    page[512] = (tables + 2 * 4096) | 3;                   /* PML4[0] -> PDPT */
    for (uint64_t d = 0; d < 4; d++) {
        page[1024 + d] = (tables + (3 + d) * 4096) | 3;    /* PDPT[d] -> PD d */
        for (uint64_t i = 0; i < 512; i++) page[(3 + d) * 512 + i] = ((d * 512 + i) << 21) | 0x83;
    }
    sregs->gdt.base = tables;
    sregs->gdt.limit = 3 * 8 - 1;
    sregs->cr3 = tables + 4096;
    sregs->cr4 = 0x20 | 0x200 | 0x400;             /* PAE, OSFXSR, OSXMMEXCPT */
    sregs->cr0 = 0x1 | 0x2 | 0x10 | 0x20 | 0x80000000; /* PE, MP, ET, NE, PG */
    sregs->efer = 0x500;                            /* LME, LMA */
    struct kvm_segment code = { .base = 0, .limit = 0xffffffff, .selector = 0x08, .type = 11, .present = 1, .s = 1, .l = 1, .g = 1 };
    struct kvm_segment data = { .base = 0, .limit = 0xffffffff, .selector = 0x10, .type = 3, .present = 1, .s = 1, .db = 1, .g = 1 };
    sregs->cs = code;
    sregs->ds = sregs->es = sregs->fs = sregs->gs = sregs->ss = data;
    regs->rsp = tables;
}
#endif

/* --irqfd: an eventfd bound to the in-kernel irqchip's interrupt (after the vGIC's init on aarch64). */
static void bind_irqfd(struct guest_vm *g, int vgic_fd) {
    struct kvm_irqfd irqfd = { .gsi = 0 };
#if defined(__x86_64__)
    (void)vgic_fd;
    struct {
        struct kvm_irq_routing table;
        struct kvm_irq_routing_entry entry;  /* the table's one entry */
    } routing;
    memset(&routing, 0, sizeof routing);
    routing.table.nr = 1;
    routing.entry.gsi = 24;  /* past the IOAPIC's pins */
    routing.entry.type = KVM_IRQ_ROUTING_MSI;
    routing.entry.u.msi.address_lo = 0xfee00000;
    routing.entry.u.msi.data = 0x20;
    xioctl(g->fd, KVM_SET_GSI_ROUTING, &routing, "KVM_SET_GSI_ROUTING");
    irqfd.gsi = 24;
    struct kvm_lapic_state lapic;  /* software-enabled (SVR bit 8), as femtovm leaves it */
    xioctl(g->vcpu, KVM_GET_LAPIC, &lapic, "KVM_GET_LAPIC");
    uint32_t svr;
    memcpy(&svr, lapic.regs + 0xf0, sizeof svr);
    svr |= 0x100;
    memcpy(lapic.regs + 0xf0, &svr, sizeof svr);
    xioctl(g->vcpu, KVM_SET_LAPIC, &lapic, "KVM_SET_LAPIC");
#else
    uint32_t icfgr = 0x2;  /* GICD_ICFGR2: INTID 32 edge-triggered, an irqfd's pulse latched */
    vgic_attr(vgic_fd, KVM_DEV_ARM_VGIC_GRP_DIST_REGS, 0xc08, &icfgr, "vGIC GICD_ICFGR2");
#endif
    irqfd_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (irqfd_fd < 0) die("eventfd: %s", strerror(errno));
    irqfd.fd = (uint32_t)irqfd_fd;
    xioctl(g->fd, KVM_IRQFD, &irqfd, "KVM_IRQFD");
}

/* Creates a VM running the image with `arg` in ecx (x86-64) / x0 (aarch64). */
static void vm_create(struct guest_vm *g, uint64_t arg) {
    g->fd = xioctl(kvm_fd, KVM_CREATE_VM, 0, "KVM_CREATE_VM");
    g->ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (g->ram == MAP_FAILED) die("mmap guest RAM: %s", strerror(errno));
    memcpy(g->ram + (LOAD_ADDR - RAM_BASE), image, image_len);
    struct kvm_userspace_memory_region region = {
        .slot = 0, .guest_phys_addr = RAM_BASE, .memory_size = RAM_SIZE,
        .userspace_addr = (uint64_t)(uintptr_t)g->ram,
    };
    xioctl(g->fd, KVM_SET_USER_MEMORY_REGION, &region, "KVM_SET_USER_MEMORY_REGION");
#if defined(__x86_64__)
    xioctl(g->fd, KVM_SET_TSS_ADDR, (void *)0xfffbd000ul, "KVM_SET_TSS_ADDR");
    if (irqchip) xioctl(g->fd, KVM_CREATE_IRQCHIP, NULL, "KVM_CREATE_IRQCHIP");
#else
    if (irqchip || long_mode) die("--irqchip and --long are for x86-64");
#endif
#if defined(__aarch64__)
    int vgic_fd = -1;
    if (vgic) {
        static const uint64_t gicd = 0x80000000, gicr = 0x80010000;
        struct kvm_create_device dev = { .type = KVM_DEV_TYPE_ARM_VGIC_V3 };
        xioctl(g->fd, KVM_CREATE_DEVICE, &dev, "KVM_CREATE_DEVICE (vGICv3)");
        vgic_fd = (int)dev.fd;
        vgic_attr(vgic_fd, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V3_ADDR_TYPE_DIST, &gicd, "vGIC distributor address");
        vgic_attr(vgic_fd, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V3_ADDR_TYPE_REDIST, &gicr, "vGIC redistributor address");
    }
#else
    if (vgic) die("--vgic is for aarch64");
#endif
    g->vcpu = xioctl(g->fd, KVM_CREATE_VCPU, 0, "KVM_CREATE_VCPU");
    g->run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, g->vcpu, 0);
    if (g->run == MAP_FAILED) die("mmap kvm_run: %s", strerror(errno));
    if (coalesced_zone.kind) {
        int page = ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_COALESCED_MMIO);
        if (page <= 0) die("this KVM lacks KVM_CAP_COALESCED_MMIO");
        struct kvm_coalesced_mmio_zone z = { .addr = coalesced_zone.addr, .size = coalesced_zone.size, .pio = coalesced_zone.kind == 2 };
        xioctl(g->fd, KVM_REGISTER_COALESCED_MMIO, &z, "KVM_REGISTER_COALESCED_MMIO");
        coalesced_ring = (struct kvm_coalesced_mmio_ring *)((uint8_t *)g->run + (size_t)page * 4096);
    }
    if (doorbell_zone.kind) {
        doorbell_fd = eventfd(0, EFD_CLOEXEC);
        if (doorbell_fd < 0) die("eventfd: %s", strerror(errno));
        struct kvm_ioeventfd io = { .addr = doorbell_zone.addr, .len = doorbell_zone.size, .fd = doorbell_fd,
                                    .flags = doorbell_zone.kind == 2 ? KVM_IOEVENTFD_FLAG_PIO : 0 };
        xioctl(g->fd, KVM_IOEVENTFD, &io, "KVM_IOEVENTFD");
    }
#if defined(__x86_64__)
    struct kvm_sregs sregs;
    xioctl(g->vcpu, KVM_GET_SREGS, &sregs, "KVM_GET_SREGS");
    sregs.cs.base = 0;
    sregs.cs.selector = 0;
    sregs.ds.base = 0;
    sregs.ds.selector = 0;
    sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
    struct kvm_regs regs;
    memset(&regs, 0, sizeof regs);
    if (long_mode) setup_long_mode(g, &sregs, &regs);
    xioctl(g->vcpu, KVM_SET_SREGS, &sregs, "KVM_SET_SREGS");
    regs.rip = LOAD_ADDR;
    regs.rflags = 0x2;
    regs.rcx = arg;
    xioctl(g->vcpu, KVM_SET_REGS, &regs, "KVM_SET_REGS");
    if (irqfd_device) bind_irqfd(g, -1);
#else
    struct kvm_vcpu_init init;
    memset(&init, 0, sizeof init);
    xioctl(g->fd, KVM_ARM_PREFERRED_TARGET, &init, "KVM_ARM_PREFERRED_TARGET");
    init.features[0] |= 1u << KVM_ARM_VCPU_PSCI_0_2;
    xioctl(g->vcpu, KVM_ARM_VCPU_INIT, &init, "KVM_ARM_VCPU_INIT");
    set_core_reg(g->vcpu, offsetof(struct kvm_regs, regs.pc), LOAD_ADDR, "set PC");
    set_core_reg(g->vcpu, offsetof(struct kvm_regs, regs.pstate), 0x3c5, "set PSTATE");
    set_core_reg(g->vcpu, offsetof(struct kvm_regs, sp_el1), RAM_BASE + RAM_SIZE, "set SP_EL1");
    set_core_reg(g->vcpu, offsetof(struct kvm_regs, regs.regs[0]), arg, "set x0");
    if (vgic_fd >= 0) {
        vgic_attr(vgic_fd, KVM_DEV_ARM_VGIC_GRP_CTRL, KVM_DEV_ARM_VGIC_CTRL_INIT, NULL, "vGIC init");
        if (irqfd_device) bind_irqfd(g, vgic_fd);
        close(vgic_fd);  /* the device lives with the VM */
    }
#endif
}


static void set_irq_line(struct guest_vm *g, int level) {
#if defined(__x86_64__)
    (void)g;
    irq_line = level;
    if (!level) irq_injected = 0;
#else
    struct kvm_irq_level irq = {
        .irq = (KVM_ARM_IRQ_TYPE_CPU << KVM_ARM_IRQ_TYPE_SHIFT) | KVM_ARM_IRQ_CPU_IRQ,  /* vCPU 0 */
        .level = (uint32_t)level,
    };
    xioctl(g->fd, KVM_IRQ_LINE, &irq, "KVM_IRQ_LINE");
#endif
}

static void vm_destroy(struct guest_vm *g) {
    if (irqfd_fd >= 0) close(irqfd_fd);
    irqfd_fd = -1;
    munmap(g->run, run_size);
    close(g->vcpu);
    munmap(g->ram, RAM_SIZE);
    close(g->fd);
}

/* Runs the guest until it ends; returns the number of KVM_RUN returns. With `latency`, stores the
 * time between consecutive returns (the first measured from the loop's start) for up to `cap` exits. */
static unsigned long long vm_run(struct guest_vm *g, uint64_t *latency, size_t cap) {
    struct kvm_run *run = g->run;
    unsigned long long exits = 0;
    uint64_t last = latency ? now_ns() : 0;
    for (;;) {
#if defined(__x86_64__)
        if (irq_device) {  /* inject the raised line's vector once the guest can take it */
            run->request_interrupt_window = 0;
            if (irq_line && !irq_injected) {
                if (run->ready_for_interrupt_injection && run->if_flag) {
                    struct kvm_interrupt irq = { .irq = 0x20 };
                    xioctl(g->vcpu, KVM_INTERRUPT, &irq, "KVM_INTERRUPT");
                    irq_injected = 1;
                } else {
                    run->request_interrupt_window = 1;
                }
            }
        }
#endif
        if (ioctl(g->vcpu, KVM_RUN, NULL) < 0) {
            if (errno == EINTR) continue;
            die("KVM_RUN failed after %llu exits: %s", exits, strerror(errno));
        }
        if (latency && exits < cap) {
            uint64_t t = now_ns();
            latency[exits] = t - last;
            last = t;
        }
        exits++;
        if (coalesced_ring) drain_coalesced();  /* the writes before this exit, in order */
        switch (run->exit_reason) {
        case KVM_EXIT_MMIO:
            if (irqfd_device && run->mmio.is_write && run->mmio.phys_addr == irqfd_device) {
                uint64_t one = 1;
                if (write(irqfd_fd, &one, sizeof one) != sizeof one) die("write to the irqfd: %s", strerror(errno));
                continue;
            }
            if (irqchip && run->mmio.is_write) break;  /* the report: HLT would stay in the kernel */
            if (irq_device && run->mmio.is_write && (run->mmio.phys_addr == irq_device || run->mmio.phys_addr == INTERRUPT_ACK))
                set_irq_line(g, run->mmio.phys_addr == irq_device);
            if (!run->mmio.is_write) {
                memset(run->mmio.data, 0, sizeof run->mmio.data);
                run->mmio.data[0] = 1;
            }
            continue;
#if defined(__x86_64__)
        case KVM_EXIT_IO:
            if (run->io.direction == KVM_EXIT_IO_IN) {
                uint8_t *data = (uint8_t *)run + run->io.data_offset;
                memset(data, 0, (size_t)run->io.size * run->io.count);
                if (pm_timer) {
                    uint32_t t = pm_timer_value();
                    memcpy(data, &t, run->io.size < sizeof t ? run->io.size : sizeof t);
                } else {
                    data[0] = 1;
                }
            }
            continue;
        case KVM_EXIT_IRQ_WINDOW_OPEN:
            continue;
        case KVM_EXIT_HLT:
            if (irq_device && run->if_flag) continue;  /* waits for the line, which the request raised */
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
        return exits;
    }
}

static void print_array(const char *name, const uint64_t *values, size_t n) {
    printf(",\"%s\":[", name);
    for (size_t i = 0; i < n; i++) printf(i ? ",%llu" : "%llu", (unsigned long long)values[i]);
    putchar(']');
}

/* ---- the exit loop ---- */

static int exit_loop(unsigned long long count, int latency) {
#if defined(__x86_64__)
    if (count > 0xffffffffull) die("count %llu does not fit in ecx", count);
#endif
    size_t cap = latency ? (size_t)count + 1 : 0;
    uint64_t *lat = NULL;
    if (latency) {
        lat = calloc(cap, sizeof *lat);
        if (!lat) die("out of memory for %zu latencies", cap);
    }
    struct guest_vm g;
    vm_create(&g, count);
    pthread_t waiter;
    if (doorbell_fd >= 0 && pthread_create(&waiter, NULL, doorbell_thread, NULL) != 0) die("pthread_create failed");
    uint64_t t0 = now_ns();
    unsigned long long exits = vm_run(&g, lat, cap);
    double seconds = (double)(now_ns() - t0) / 1e9;
    uint64_t rings = 0;
    if (doorbell_fd >= 0) {
        uint64_t quit = DOORBELL_QUIT;
        if (write(doorbell_fd, &quit, sizeof quit) != sizeof quit) die("write to the doorbell's eventfd: %s", strerror(errno));
        pthread_join(waiter, NULL);
        rings = doorbell_rings;
    }
    vm_destroy(&g);
    printf("{\"exits\":%llu,\"seconds\":%.6f,\"usPerExit\":%.4f", exits, seconds, seconds * 1e6 / (double)exits);
    if (coalesced_zone.kind) printf(",\"coalesced\":%llu", coalesced_writes);
    if (doorbell_zone.kind) printf(",\"doorbell\":%llu", (unsigned long long)rings);
    if (latency) print_array("latencyNs", lat, exits < cap ? exits : cap);
    puts("}");
    return 0;
}

/* ---- the swarm ---- */

static unsigned long long swarm_total;
static unsigned long long swarm_next;    /* atomic: VMs handed out */
static uint64_t *swarm_cycle;            /* per VM create+run+destroy ns */

static void *swarm_thread(void *arg) {
    (void)arg;
    for (;;) {
        unsigned long long i = __atomic_fetch_add(&swarm_next, 1, __ATOMIC_RELAXED);
        if (i >= swarm_total) return NULL;
        uint64_t t = now_ns();
        struct guest_vm g;
        vm_create(&g, 0);
        vm_run(&g, NULL, 0);
        vm_destroy(&g);
        swarm_cycle[i] = now_ns() - t;
    }
}

static int swarm(unsigned long long vms, unsigned long long threads, unsigned long long alive) {
    if (threads == 0 || threads > 256) die("--threads must be 1..256");
    /* Each VM holds 2 fds: lift the soft fd limit to the hard one, as Node does. */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    struct guest_vm *idle = calloc(alive ? alive : 1, sizeof *idle);
    swarm_cycle = calloc(vms ? vms : 1, sizeof *swarm_cycle);
    if (!idle || !swarm_cycle) die("out of memory");
    for (unsigned long long i = 0; i < alive; i++) vm_create(&idle[i], 0);
    swarm_total = vms;
    pthread_t tid[256];
    uint64_t t0 = now_ns();
    for (unsigned long long i = 0; i < threads; i++)
        if (pthread_create(&tid[i], NULL, swarm_thread, NULL) != 0) die("pthread_create failed");
    for (unsigned long long i = 0; i < threads; i++) pthread_join(tid[i], NULL);
    double seconds = (double)(now_ns() - t0) / 1e9;
    for (unsigned long long i = 0; i < alive; i++) vm_destroy(&idle[i]);
    printf("{\"vms\":%llu,\"threads\":%llu,\"alive\":%llu,\"seconds\":%.6f,\"vmsPerSecond\":%.2f",
           vms, threads, alive, seconds, (double)vms / seconds);
    print_array("cycleNs", swarm_cycle, vms);
    puts("}");
    return 0;
}

/* ---- stop latency ---- */

enum { KICK_IDLE = 0, KICK_RUN = 1, KICK_LEFT = 2, KICK_QUIT = 3 };
static int kick_state;                 /* futex word */
static uint64_t kick_exit_ns;          /* when KVM_RUN returned, written before KICK_LEFT */

static void futex_wait(int *word, int value, long timeout_ns) {
    struct timespec ts = { timeout_ns / 1000000000l, timeout_ns % 1000000000l };
    syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, value, timeout_ns ? &ts : NULL, NULL, 0);
}
static void futex_wake(int *word) { syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0); }
static int load_state(void) { return __atomic_load_n(&kick_state, __ATOMIC_ACQUIRE); }
static void store_state(int s) {
    __atomic_store_n(&kick_state, s, __ATOMIC_RELEASE);
    futex_wake(&kick_state);
}

static void on_kick(int sig) { (void)sig; }

static void *kick_vcpu_thread(void *arg) {
    struct guest_vm *g = arg;
    for (;;) {
        int s;
        while ((s = load_state()) == KICK_IDLE || s == KICK_LEFT) futex_wait(&kick_state, s, 0);
        if (s == KICK_QUIT) return NULL;
        if (ioctl(g->vcpu, KVM_RUN, NULL) == 0) die("the spin guest exited (reason %u)", g->run->exit_reason);
        if (errno != EINTR) die("KVM_RUN failed: %s", strerror(errno));
        kick_exit_ns = now_ns();
        g->run->immediate_exit = 0;
        store_state(KICK_LEFT);
    }
}

static int kick(unsigned long long kicks) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_kick;   /* no SA_RESTART: KVM_RUN returns EINTR */
    sigemptyset(&action.sa_mask);
    sigaction(SIGUSR1, &action, NULL);
    uint64_t *exit_ns = calloc(kicks ? kicks : 1, sizeof *exit_ns);
    uint64_t *ack_ns = calloc(kicks ? kicks : 1, sizeof *ack_ns);
    if (!exit_ns || !ack_ns) die("out of memory");
    struct guest_vm g;
    vm_create(&g, 0);
    pthread_t vcpu;
    if (pthread_create(&vcpu, NULL, kick_vcpu_thread, &g) != 0) die("pthread_create failed");
    unsigned int seed = 1;
    for (unsigned long long i = 0; i < kicks; i++) {
        store_state(KICK_RUN);
        struct timespec pause = { 0, 1000000l + (long)(rand_r(&seed) % 2000000) };  /* 1-3 ms in KVM_RUN */
        nanosleep(&pause, NULL);
        uint64_t t0 = now_ns();
        g.run->immediate_exit = 1;
        pthread_kill(vcpu, SIGUSR1);
        int s;
        while ((s = load_state()) != KICK_LEFT) {
            futex_wait(&kick_state, s, 1000000l);
            if (load_state() != KICK_LEFT) pthread_kill(vcpu, SIGUSR1);  /* re-kick every 1 ms, as femtovm */
        }
        ack_ns[i] = now_ns() - t0;
        exit_ns[i] = kick_exit_ns - t0;
        __atomic_store_n(&kick_state, KICK_IDLE, __ATOMIC_RELEASE);
    }
    store_state(KICK_QUIT);
    pthread_join(vcpu, NULL);
    vm_destroy(&g);
    printf("{\"kicks\":%llu", kicks);
    print_array("exitNs", exit_ns, kicks);
    print_array("ackNs", ack_ns, kicks);
    puts("}");
    return 0;
}

int main(int argc, char **argv) {
    int latency = 0;
    unsigned long long vms = 0, threads = 1, alive = 0, kicks = 0;
    int mode = 0; /* 0 exit loop, 1 swarm, 2 kick */
    int i = 1;
    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        const char *flag = argv[i];
        if (strcmp(flag, "--latency") == 0) { latency = 1; continue; }
        if (strcmp(flag, "--pm-timer") == 0) { pm_timer = 1; continue; }
        if (strcmp(flag, "--vgic") == 0) { vgic = 1; continue; }
        if (strcmp(flag, "--irqchip") == 0) { irqchip = 1; continue; }
        if (strcmp(flag, "--long") == 0) { long_mode = 1; continue; }
        if (i + 1 >= argc) usage();
        if (strcmp(flag, "--vms") == 0) { vms = parse_count(argv[++i], "--vms"); mode = 1; }
        else if (strcmp(flag, "--threads") == 0) threads = parse_count(argv[++i], "--threads");
        else if (strcmp(flag, "--alive") == 0) alive = parse_count(argv[++i], "--alive");
        else if (strcmp(flag, "--kick") == 0) { kicks = parse_count(argv[++i], "--kick"); mode = 2; }
        else if (strcmp(flag, "--coalesced") == 0) coalesced_zone = parse_zone(argv[++i], "--coalesced");
        else if (strcmp(flag, "--doorbell") == 0) doorbell_zone = parse_zone(argv[++i], "--doorbell");
        else if (strcmp(flag, "--irq-device") == 0) irq_device = parse_count(argv[++i], "--irq-device");
        else if (strcmp(flag, "--irqfd") == 0) irqfd_device = parse_count(argv[++i], "--irqfd");
        else usage();
    }
#if defined(__x86_64__)
    if (irqfd_device) irqchip = 1;
#else
    if (irqfd_device) vgic = 1;
#endif
    int rest = argc - i;
    if (mode == 0 ? rest != 2 : rest != 1) usage();
    load_image(argv[i]);
    open_kvm();
    if (mode == 1) return swarm(vms, threads, alive);
    if (mode == 2) return kick(kicks);
    return exit_loop(parse_count(argv[i + 1], "count"), latency);
}
