// covers: AT_SYSINFO_EHDR, the vDSO's symbols, clock_gettime, gettimeofday, time, clock_getres, getcpu
// The vDSO the kernel maps: its dynamic symbol table read here as a libc reads it, its
// functions called directly and through libc, agreeing with the system calls. Only facts
// are printed, never times or addresses.
//   vdso          the checks
//   vdso loop N   N calls each of clock_gettime, gettimeofday and time, for a tracer to see
//                 that none is a system call
//   vdso unmap    munmap the vDSO and its vvar page, then read the clock by system call
#define _GNU_SOURCE
#include <elf.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

typedef int (*clock_fn)(clockid_t, struct timespec *);
typedef int (*gettimeofday_fn)(struct timeval *, struct timezone *);
typedef time_t (*time_fn)(time_t *);
typedef long (*getcpu_fn)(unsigned *, unsigned *, void *);

// The vDSO's dynamic symbol table.
static struct {
    uintptr_t bias;  // what the symbol values are relative to
    const Elf64_Sym *syms;
    const char *strings;
    const Elf64_Half *versym;
    const Elf64_Verdef *verdef;
    size_t count;
} vdso;

static int64_t ns_of(struct timespec t) {
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

// The number of symbols a DT_GNU_HASH table covers: past the highest bucket, to the end of
// its chain.
static size_t gnu_hash_symbols(const uint32_t *table) {
    const uint32_t nbuckets = table[0], symoffset = table[1], bloom_words = table[2];
    const uint32_t *buckets = table + 4 + 2 * bloom_words;  // 64-bit bloom words
    const uint32_t *chain = buckets + nbuckets;
    uint32_t last = 0;
    for (uint32_t i = 0; i < nbuckets; i++)
        if (buckets[i] > last) last = buckets[i];
    if (last < symoffset) return symoffset;
    while (!(chain[last - symoffset] & 1)) last++;
    return last + 1;
}

static int parse_vdso(void) {
    const Elf64_Ehdr *eh = (const Elf64_Ehdr *)getauxval(AT_SYSINFO_EHDR);
    expect("AT_SYSINFO_EHDR is set", eh != NULL);
    if (!eh) return 0;
    int elf = memcmp(eh->e_ident, ELFMAG, SELFMAG) == 0 && eh->e_ident[EI_CLASS] == ELFCLASS64 &&
              eh->e_type == ET_DYN && eh->e_machine == EM_X86_64;
    expect("the vDSO is an x86-64 ELF shared object", elf);
    if (!elf) return 0;
    const Elf64_Phdr *ph = (const Elf64_Phdr *)((const char *)eh + eh->e_phoff);
    const Elf64_Dyn *dyn = NULL;
    int loads = 0;
    for (int i = 0; i < eh->e_phnum; i++) {
        if (ph[i].p_type == PT_LOAD && loads++ == 0)
            vdso.bias = (uintptr_t)eh + ph[i].p_offset - ph[i].p_vaddr;
        if (ph[i].p_type == PT_DYNAMIC)
            dyn = (const Elf64_Dyn *)((const char *)eh + ph[i].p_offset);
    }
    expect("the vDSO has a PT_LOAD and a PT_DYNAMIC", loads > 0 && dyn != NULL);
    if (!loads || !dyn) return 0;
    const uint32_t *hash = NULL, *gnu_hash = NULL;
    for (; dyn->d_tag != DT_NULL; dyn++) {
        const uintptr_t at = vdso.bias + dyn->d_un.d_ptr;
        switch (dyn->d_tag) {
            case DT_SYMTAB:
                vdso.syms = (const Elf64_Sym *)at;
                break;
            case DT_STRTAB:
                vdso.strings = (const char *)at;
                break;
            case DT_HASH:
                hash = (const uint32_t *)at;
                break;
            case DT_GNU_HASH:
                gnu_hash = (const uint32_t *)at;
                break;
            case DT_VERSYM:
                vdso.versym = (const Elf64_Half *)at;
                break;
            case DT_VERDEF:
                vdso.verdef = (const Elf64_Verdef *)at;
                break;
        }
    }
    expect("the vDSO has DT_SYMTAB and DT_STRTAB", vdso.syms && vdso.strings);
    expect("the vDSO has DT_HASH or DT_GNU_HASH", hash || gnu_hash);
    expect("the vDSO has DT_VERSYM and DT_VERDEF", vdso.versym && vdso.verdef);
    if (!vdso.syms || !vdso.strings || !(hash || gnu_hash) || !vdso.versym || !vdso.verdef)
        return 0;
    vdso.count = hash ? hash[1] : gnu_hash_symbols(gnu_hash);
    return 1;
}

// The name of version index `index` in the vDSO's version definitions, or NULL.
static const char *version_name(unsigned index) {
    for (const Elf64_Verdef *d = vdso.verdef;;
         d = (const Elf64_Verdef *)((const char *)d + d->vd_next)) {
        if (!(d->vd_flags & VER_FLG_BASE) && (d->vd_ndx & 0x7fff) == index) {
            const Elf64_Verdaux *aux = (const Elf64_Verdaux *)((const char *)d + d->vd_aux);
            return vdso.strings + aux->vda_name;
        }
        if (!d->vd_next) return NULL;
    }
}

// A function the vDSO defines as name@version, or NULL.
static void *vdso_function(const char *name, const char *version) {
    for (size_t i = 1; i < vdso.count; i++) {
        const Elf64_Sym *s = &vdso.syms[i];
        const int bind = ELF64_ST_BIND(s->st_info);
        if (ELF64_ST_TYPE(s->st_info) != STT_FUNC || (bind != STB_GLOBAL && bind != STB_WEAK) ||
            s->st_shndx == SHN_UNDEF || strcmp(vdso.strings + s->st_name, name) != 0)
            continue;
        const char *v = version_name(vdso.versym[i] & 0x7fff);
        if (v && strcmp(v, version) == 0) return (void *)(vdso.bias + s->st_value);
    }
    return NULL;
}

static void *exported(const char *name) {
    void *f = vdso_function(name, "LINUX_2.6");
    char label[96];
    snprintf(label, sizeof label, "%s@LINUX_2.6 is exported", name);
    expect(label, f != NULL);
    return f;
}

static int64_t syscall_clock(clockid_t id) {
    struct timespec t;
    if (syscall(SYS_clock_gettime, id, &t) != 0) return -1;
    return ns_of(t);
}

static const struct {
    clockid_t id;
    const char *name;
} kClocks[] = {
    {CLOCK_REALTIME, "CLOCK_REALTIME"},
    {CLOCK_MONOTONIC, "CLOCK_MONOTONIC"},
    {CLOCK_MONOTONIC_RAW, "CLOCK_MONOTONIC_RAW"},
    {CLOCK_REALTIME_COARSE, "CLOCK_REALTIME_COARSE"},
    {CLOCK_MONOTONIC_COARSE, "CLOCK_MONOTONIC_COARSE"},
    {CLOCK_BOOTTIME, "CLOCK_BOOTTIME"},
    {CLOCK_TAI, "CLOCK_TAI"},
};
// Readings of one clock by different paths agree within this (the coarse clocks lag by up
// to a tick).
static const int64_t kToleranceNs = 50 * 1000000LL;

static void check_clocks(clock_fn vdso_clock_gettime, clock_fn vdso_clock_getres) {
    for (size_t i = 0; i < sizeof kClocks / sizeof kClocks[0]; i++) {
        const clockid_t id = kClocks[i].id;
        struct timespec by_libc = {0, 0}, by_vdso = {0, 0};
        const int64_t before = syscall_clock(id);
        const int libc_ok = clock_gettime(id, &by_libc) == 0;
        const int vdso_ok = vdso_clock_gettime(id, &by_vdso) == 0;
        const int64_t after = syscall_clock(id);
        char label[128];
        snprintf(label, sizeof label, "%s: libc, vDSO and syscall agree", kClocks[i].name);
        expect(label, libc_ok && vdso_ok && before > 0 && ns_of(by_libc) >= before - kToleranceNs &&
                          ns_of(by_libc) <= after + kToleranceNs &&
                          ns_of(by_vdso) >= ns_of(by_libc) - kToleranceNs &&
                          ns_of(by_vdso) <= after + kToleranceNs && by_vdso.tv_nsec >= 0 &&
                          by_vdso.tv_nsec < 1000000000);
        struct timespec res_libc = {-1, -1}, res_vdso = {-1, -1}, res_syscall = {-2, -2};
        const int res_ok = clock_getres(id, &res_libc) == 0 &&
                           vdso_clock_getres(id, &res_vdso) == 0 &&
                           syscall(SYS_clock_getres, id, &res_syscall) == 0;
        snprintf(label, sizeof label, "%s: clock_getres agrees with the syscall", kClocks[i].name);
        expect(label, res_ok && res_libc.tv_sec == res_syscall.tv_sec &&
                          res_libc.tv_nsec == res_syscall.tv_nsec &&
                          res_vdso.tv_sec == res_syscall.tv_sec &&
                          res_vdso.tv_nsec == res_syscall.tv_nsec);
    }

    // The same clock read by the vDSO and by the system call never goes back.
    int64_t last = syscall_clock(CLOCK_MONOTONIC);
    int ordered = 1;
    for (int i = 0; i < 2000; i++) {
        struct timespec t;
        vdso_clock_gettime(CLOCK_MONOTONIC, &t);
        const int64_t by_vdso = ns_of(t), by_syscall = syscall_clock(CLOCK_MONOTONIC);
        clock_gettime(CLOCK_MONOTONIC, &t);
        ordered &= by_vdso >= last && by_syscall >= by_vdso && ns_of(t) >= by_syscall;
        last = ns_of(t);
    }
    expect("CLOCK_MONOTONIC by vDSO, syscall and libc in turn never goes back", ordered);
    struct timespec t;
    expect("CLOCK_BOOTTIME is not behind CLOCK_MONOTONIC",
           clock_gettime(CLOCK_MONOTONIC, &t) == 0 && syscall_clock(CLOCK_BOOTTIME) >= ns_of(t));

    // What the vDSO does not serve itself it hands to the kernel, errors included.
    expect("the vDSO's clock_gettime of a bad clock id returns -EINVAL",
           vdso_clock_gettime(12345, &t) == -EINVAL);
    expect("the vDSO's clock_getres of a bad clock id returns -EINVAL",
           vdso_clock_getres(12345, &t) == -EINVAL);
    EXPECT_ERRNO("clock_gettime of a bad clock id", clock_gettime(12345, &t), EINVAL);
    EXPECT_ERRNO("syscall clock_gettime of a bad clock id", syscall(SYS_clock_gettime, 12345, &t),
                 EINVAL);
    EXPECT_ERRNO("clock_getres of a bad clock id", clock_getres(12345, &t), EINVAL);
    EXPECT_ERRNO("syscall clock_getres of a bad clock id", syscall(SYS_clock_getres, 12345, &t),
                 EINVAL);
    expect("the vDSO's clock_gettime of the process CPU clock works",
           vdso_clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t) == 0 && ns_of(t) > 0);
    expect("the vDSO's clock_getres with a null pointer works",
           vdso_clock_getres(CLOCK_MONOTONIC, NULL) == 0);
}

static void check_gettimeofday(gettimeofday_fn vdso_gettimeofday) {
    struct timeval by_libc, by_vdso, by_syscall;
    const int64_t before = syscall_clock(CLOCK_REALTIME);
    const int ok = gettimeofday(&by_libc, NULL) == 0 && vdso_gettimeofday(&by_vdso, NULL) == 0 &&
                   syscall(SYS_gettimeofday, &by_syscall, NULL) == 0;
    const int64_t after = syscall_clock(CLOCK_REALTIME);
    const struct timeval *all[] = {&by_libc, &by_vdso, &by_syscall};
    int agree = ok;
    for (int i = 0; i < 3; i++) {
        const int64_t ns = (int64_t)all[i]->tv_sec * 1000000000 + (int64_t)all[i]->tv_usec * 1000;
        agree &= all[i]->tv_usec >= 0 && all[i]->tv_usec < 1000000 && ns >= before - kToleranceNs &&
                 ns <= after + kToleranceNs;
    }
    expect("gettimeofday by libc, vDSO and syscall agree with CLOCK_REALTIME", agree);
    // (musl's gettimeofday leaves a struct timezone alone: only the vDSO and the syscall.)
    struct timezone tz_vdso = {-2, -2}, tz_syscall = {-3, -3};
    expect("the timezone by vDSO and syscall is the same",
           vdso_gettimeofday(NULL, &tz_vdso) == 0 &&
               syscall(SYS_gettimeofday, NULL, &tz_syscall) == 0 &&
               tz_vdso.tz_minuteswest == tz_syscall.tz_minuteswest &&
               tz_vdso.tz_dsttime == tz_syscall.tz_dsttime);
    expect("the vDSO's gettimeofday with two null pointers", vdso_gettimeofday(NULL, NULL) == 0);
}

static void check_time(time_fn vdso_time) {
    const int64_t before = syscall_clock(CLOCK_REALTIME) / 1000000000;
    time_t stored_libc = 0, stored_vdso = 0;
    const time_t by_libc = time(NULL), by_vdso = vdso_time(NULL);
    const time_t by_libc_stored = time(&stored_libc), by_vdso_stored = vdso_time(&stored_vdso);
    const time_t by_syscall = (time_t)syscall(SYS_time, NULL);
    const int64_t after = syscall_clock(CLOCK_REALTIME) / 1000000000;
    const time_t all[] = {by_libc, by_vdso, by_libc_stored, by_vdso_stored, by_syscall};
    int agree = stored_libc == by_libc_stored && stored_vdso == by_vdso_stored;
    for (int i = 0; i < 5; i++)
        agree &= all[i] >= before - 1 && all[i] <= after;  // time() may be coarse
    expect("time by libc, vDSO and syscall agree with CLOCK_REALTIME, and store it", agree);
}

static void check_getcpu(getcpu_fn vdso_getcpu) {
    const long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned cpu = ~0u, node = ~0u, by_syscall = ~0u;
    expect("sched_getcpu is an online CPU", sched_getcpu() >= 0 && sched_getcpu() < cpus);
    expect("the vDSO's getcpu is an online CPU",
           vdso_getcpu(&cpu, &node, NULL) == 0 && cpu < (unsigned long)cpus);
    expect("the getcpu syscall is an online CPU",
           syscall(SYS_getcpu, &by_syscall, NULL, NULL) == 0 && by_syscall < (unsigned long)cpus);
    expect("the vDSO's getcpu with null pointers", vdso_getcpu(NULL, NULL, NULL) == 0);
}

// [vvar] and [vdso] in /proc/self/maps, the vDSO at AT_SYSINFO_EHDR.
static void check_maps(uintptr_t *vvar) {
    FILE *maps = fopen("/proc/self/maps", "r");
    char line[512];
    uintptr_t vdso_start = 0;
    *vvar = 0;
    while (maps && fgets(line, sizeof line, maps)) {
        unsigned long start, end;
        if (sscanf(line, "%lx-%lx", &start, &end) != 2) continue;
        if (strstr(line, "[vdso]")) vdso_start = start;
        if (strstr(line, "[vvar]") && !*vvar) *vvar = start;
    }
    if (maps) fclose(maps);
    expect("/proc/self/maps lists [vdso] at AT_SYSINFO_EHDR",
           vdso_start && vdso_start == getauxval(AT_SYSINFO_EHDR));
    expect("/proc/self/maps lists [vvar] below [vdso]", *vvar && *vvar < vdso_start);
}

static void check_protection(uintptr_t vvar, clock_fn vdso_clock_gettime) {
    const long page = sysconf(_SC_PAGESIZE);
    void *vdso_text = (void *)getauxval(AT_SYSINFO_EHDR);
    EXPECT_ERRNO("mprotect [vvar] writable", mprotect((void *)vvar, page, PROT_READ | PROT_WRITE),
                 EACCES);
    EXPECT_ERRNO("mprotect [vvar] executable", mprotect((void *)vvar, page, PROT_READ | PROT_EXEC),
                 EACCES);
    expect("mprotect [vvar] read-only as it is", mprotect((void *)vvar, page, PROT_READ) == 0);
    expect("mprotect [vdso] read and execute as it is",
           mprotect(vdso_text, page, PROT_READ | PROT_EXEC) == 0);
    // Its pages come back from the image.
    struct timespec t;
    expect("madvise(MADV_DONTNEED) of [vdso]", madvise(vdso_text, page, MADV_DONTNEED) == 0);
    expect("the vDSO works after MADV_DONTNEED",
           vdso_function("__vdso_clock_gettime", "LINUX_2.6") == (void *)vdso_clock_gettime &&
               vdso_clock_gettime(CLOCK_MONOTONIC, &t) == 0 && ns_of(t) > 0);
}

static int loop(long n) {
    struct timespec t, last = {0, 0};
    struct timeval tv;
    int ordered = 1;
    for (long i = 0; i < n; i++) {
        clock_gettime(CLOCK_MONOTONIC, &t);
        ordered &= ns_of(t) >= ns_of(last);
        last = t;
    }
    for (long i = 0; i < n; i++) gettimeofday(&tv, NULL);
    for (long i = 0; i < n; i++) time(NULL);
    printf("%ld calls each of clock_gettime, gettimeofday and time\n", n);
    expect("CLOCK_MONOTONIC never goes back", ordered);
    return check_exit_status();
}

// The program may unmap its vDSO (Linux allows it); the system calls still tell the time.
static int unmap(void) {
    uintptr_t vvar;
    check_maps(&vvar);
    const long page = sysconf(_SC_PAGESIZE);
    expect("munmap [vdso]", munmap((void *)getauxval(AT_SYSINFO_EHDR), page) == 0);
    expect("munmap [vvar]", munmap((void *)vvar, page) == 0);
    expect("the clock by syscall after that", syscall_clock(CLOCK_MONOTONIC) > 0);
    return check_exit_status();
}

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "loop") == 0) return loop(atol(argv[2]));
    if (argc == 2 && strcmp(argv[1], "unmap") == 0) return unmap();
    if (!parse_vdso()) return check_exit_status();
    static const char *const kNames[] = {"clock_gettime", "gettimeofday", "time", "getcpu",
                                         "clock_getres"};
    void *functions[5];
    char prefixed[64];
    int all = 1;
    for (int i = 0; i < 5; i++) {
        snprintf(prefixed, sizeof prefixed, "__vdso_%s", kNames[i]);
        functions[i] = exported(prefixed);
        all &= functions[i] != NULL && exported(kNames[i]) == functions[i];
    }
    expect("each name without the prefix is the same function", all);
    if (!all) return check_exit_status();
    check_clocks((clock_fn)functions[0], (clock_fn)functions[4]);
    check_gettimeofday((gettimeofday_fn)functions[1]);
    check_time((time_fn)functions[2]);
    check_getcpu((getcpu_fn)functions[3]);
    uintptr_t vvar;
    check_maps(&vvar);
    if (vvar) check_protection(vvar, (clock_fn)functions[0]);
    return check_exit_status();
}
