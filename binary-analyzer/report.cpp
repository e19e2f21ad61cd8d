#include "report.hpp"

#include <algorithm>
#include <map>

#include "syscall_table.hpp"

namespace utx::analyze {

namespace {

std::string join(const std::vector<std::string>& items) {
    std::string text;
    for (const std::string& item : items) text += (text.empty() ? "" : ", ") + item;
    return text;
}

Verdict decide(const std::vector<SyscallUse>& syscalls) {
    Verdict verdict;
    for (const SyscallUse& use : syscalls) {
        if (use.status == "missing")
            verdict.missing.push_back(use.name);
        else if (use.status == "partial" || use.status == "stub")
            verdict.partial.push_back(use.name);
    }
    if (!verdict.missing.empty()) {
        verdict.text = "will fail on " + join(verdict.missing);
        verdict.exit_status = 1;
    } else if (!verdict.partial.empty()) {
        verdict.text = "ready with partial support of " + join(verdict.partial);
    } else {
        verdict.text = "ready";
    }
    return verdict;
}

// Syscalls the program causes without a site of its own. On riscv64 a signal handler
// returns through the vDSO's trampoline (libc sets no SA_RESTORER there), whose ecall
// makes rt_sigreturn; so a program that can install a handler can make rt_sigreturn.
void add_implicit(Arch arch, std::map<int64_t, SyscallUse>& uses) {
    constexpr int64_t riscv_rt_sigaction = 134, riscv_rt_sigreturn = 139;
    if (arch != Arch::RiscV64 || !uses.count(riscv_rt_sigaction) ||
        uses.count(riscv_rt_sigreturn))
        return;
    SyscallUse& use = uses[riscv_rt_sigreturn];
    use.number = riscv_rt_sigreturn;
    if (const auto info = lookup_syscall(arch, riscv_rt_sigreturn)) {
        use.name = std::string(info->name);
        use.status = std::string(status_name(info->status));
        use.note = std::string(info->note);
    }
    use.objects.push_back("[vdso]");
    use.implicit = "the vDSO's signal trampoline makes it when a handler returns";
}

}  // namespace

Report build_report(std::string file, bool dynamic, std::vector<ObjectReport> objects,
                    std::vector<MissingDependency> missing_libraries) {
    Report report;
    report.file = std::move(file);
    report.dynamic = dynamic;
    report.arch = objects.empty() ? Arch::X86_64 : objects.front().arch;
    report.missing_libraries = std::move(missing_libraries);

    std::map<int64_t, SyscallUse> uses;
    for (const ObjectReport& object : objects) {
        for (const SiteReport& site : object.sites) {
            ++report.total_sites;
            if (site.resolved()) ++report.resolved_sites;
            for (const ResolvedValue& value : site.values) {
                SyscallUse& use = uses[value.value];
                if (use.sites == 0) {
                    use.number = value.value;
                    if (const auto info = lookup_syscall(object.arch, value.value)) {
                        use.name = std::string(info->name);
                        use.status = std::string(status_name(info->status));
                        use.note = std::string(info->note);
                    } else {
                        use.status = "unknown";  // not a Linux syscall: -ENOSYS there too
                    }
                }
                ++use.sites;
                if (std::find(use.objects.begin(), use.objects.end(), object.path) ==
                    use.objects.end())
                    use.objects.push_back(object.path);
            }
            if (!site.unresolved.empty() || site.values.empty()) {
                UnresolvedSite u{object.path, site.addr, site.function, {}, site.unresolved};
                for (const ResolvedValue& value : site.values)
                    u.partial_values.push_back(value.value);
                if (u.reasons.empty()) u.reasons.push_back({site.addr, "no value found"});
                report.unresolved.push_back(std::move(u));
            }
        }
    }
    add_implicit(report.arch, uses);
    for (auto& [number, use] : uses) report.syscalls.push_back(std::move(use));
    report.objects = std::move(objects);
    report.verdict = decide(report.syscalls);
    return report;
}

}  // namespace utx::analyze
