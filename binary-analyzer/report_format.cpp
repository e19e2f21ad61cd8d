// Renders a Report as the human table, the --sites listing, and the --json document
// (schema in README.md).
#include <cstdio>
#include <sstream>

#include "error.hpp"
#include "report.hpp"

namespace utx::analyze {

namespace {

std::string percent(double share) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.1f%%", share * 100.0);
    return buffer;
}

std::string kind_name(SyscallKind kind) {
    switch (kind) {
        case SyscallKind::Syscall:
            return "syscall";
        case SyscallKind::Sysenter:
            return "sysenter";
        case SyscallKind::Int80:
            return "int 0x80";
        case SyscallKind::Ecall:
            return "ecall";
        case SyscallKind::None:
            break;
    }
    return "?";
}

// The length of the well-formed UTF-8 sequence starting at text[i] (shortest form, no
// surrogates, at most U+10FFFF), or 0.
size_t utf8_length(const std::string& text, size_t i) {
    const auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
    const unsigned char c = byte(i);
    const size_t n = c >= 0xc2 && c <= 0xdf   ? 2
                     : c >= 0xe0 && c <= 0xef ? 3
                     : c >= 0xf0 && c <= 0xf4 ? 4
                                              : 0;
    if (n == 0) return 0;
    uint32_t cp = c & (0x7f >> n);
    if (text.size() - i < n) return 0;
    for (size_t k = 1; k < n; ++k) {
        if ((byte(i + k) & 0xc0) != 0x80) return 0;
        cp = cp << 6 | (byte(i + k) & 0x3f);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff) return 0;
    return cp >= 0xd800 && cp <= 0xdfff ? 0 : n;
}

// A JSON string: names come from the file analyzed, so bytes that are not UTF-8 become
// U+FFFD (JSON text is UTF-8), as Go's encoding/json does.
std::string json_string(const std::string& text) {
    std::string out = "\"";
    for (size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (static_cast<unsigned char>(c) >= 0x80) {
            const size_t n = utf8_length(text, i);
            if (n == 0) {
                out += "\\ufffd";
            } else {
                out.append(text, i, n);
                i += n - 1;
            }
            continue;
        }
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\t':
                out += "\\t";
                break;
            default:
                if (static_cast<unsigned char>(c) < 0x20) {
                    char buffer[8];
                    std::snprintf(buffer, sizeof buffer, "\\u%04x", c);
                    out += buffer;
                } else {
                    out += c;
                }
        }
    }
    return out + "\"";
}

template <typename T, typename F>
std::string json_array(const std::vector<T>& items, F render) {
    std::string out = "[";
    for (size_t i = 0; i < items.size(); ++i) out += (i ? "," : "") + render(items[i]);
    return out + "]";
}

std::string json_unresolved(const Unresolved& u) {
    return "{\"address\":" + json_string(hex(u.addr)) + ",\"reason\":" + json_string(u.reason) +
           "}";
}

}  // namespace

std::string format_table(const Report& report) {
    std::ostringstream out;
    out << report.file << ": " << arch_name(report.arch) << ", "
        << (report.dynamic ? "dynamic" : "static") << ", " << report.objects.size()
        << (report.objects.size() == 1 ? " object" : " objects") << " analyzed\n";
    for (const MissingDependency& m : report.missing_libraries)
        out << "warning: " << m.name << " (needed by " << m.needed_by << "): " << m.reason
            << "; its syscalls are not counted\n";
    char line[160];
    std::snprintf(line, sizeof line, "%5s  %-24s %6s  %s\n", "NR", "NAME", "SITES", "STATUS");
    out << line;
    for (const SyscallUse& use : report.syscalls) {
        std::snprintf(line, sizeof line, "%5lld  %-24s %6zu  %s",
                      static_cast<long long>(use.number), use.name.empty() ? "?" : use.name.c_str(),
                      use.sites, use.status.c_str());
        out << line;
        if (!use.note.empty()) out << " (" << use.note << ")";
        if (!use.implicit.empty()) out << " [no site: " << use.implicit << "]";
        out << "\n";
    }
    if (!report.unresolved.empty()) {
        out << "unresolved sites (" << report.unresolved.size() << "):\n";
        for (const UnresolvedSite& u : report.unresolved) {
            out << "  " << hex(u.addr) << " in " << u.function;
            if (report.objects.size() > 1) out << " [" << u.object << "]";
            out << ": " << u.reasons.front().reason;
            if (u.reasons.size() > 1) out << " (+" << u.reasons.size() - 1 << " more)";
            if (!u.partial_values.empty()) {
                out << "; other paths give";
                for (int64_t v : u.partial_values) out << " " << v;
            }
            out << "\n";
        }
    }
    out << "resolution: " << report.resolved_sites << " of " << report.total_sites << " sites ("
        << percent(report.resolution_share()) << ")\n";
    out << "verdict: " << report.verdict.text << "\n";
    return out.str();
}

std::string format_sites(const Report& report) {
    std::ostringstream out;
    for (const ObjectReport& object : report.objects) {
        out << object.path << " (" << object.role << "): " << object.sites.size() << " sites\n";
        for (const SiteReport& site : object.sites) {
            out << "  " << hex(site.addr) << "  " << kind_name(site.kind) << "  " << site.function
                << "  ";
            if (site.values.empty()) out << "unresolved";
            uint32_t how = 0;
            for (size_t i = 0; i < site.values.size(); ++i) {
                out << (i ? "," : "") << site.values[i].value;
                how |= site.values[i].how;
            }
            if (how) out << "  (" << describe_how(how) << ")";
            for (const Unresolved& u : site.unresolved) out << "  [unresolved: " << u.reason << "]";
            out << "\n";
        }
    }
    return out.str();
}

std::string format_json(const Report& report) {
    std::ostringstream out;
    out << "{\"file\":" << json_string(report.file) << ",\"arch\":\"" << arch_name(report.arch)
        << "\",\"dynamic\":" << (report.dynamic ? "true" : "false");
    out << ",\"objects\":" << json_array(report.objects, [](const ObjectReport& o) {
        size_t resolved = 0;
        for (const SiteReport& s : o.sites) resolved += s.resolved();
        return "{\"path\":" + json_string(o.path) + ",\"role\":" + json_string(o.role) +
               ",\"needed_by\":" + (o.needed_by.empty() ? "null" : json_string(o.needed_by)) +
               ",\"instructions\":" + std::to_string(o.instructions) +
               ",\"sites\":" + std::to_string(o.sites.size()) +
               ",\"resolved_sites\":" + std::to_string(resolved) + "}";
    });
    out << ",\"missing_libraries\":"
        << json_array(report.missing_libraries, [](const MissingDependency& m) {
               return "{\"name\":" + json_string(m.name) +
                      ",\"needed_by\":" + json_string(m.needed_by) +
                      ",\"reason\":" + json_string(m.reason) + "}";
           });
    out << ",\"syscalls\":" << json_array(report.syscalls, [](const SyscallUse& s) {
        return "{\"number\":" + std::to_string(s.number) +
               ",\"name\":" + (s.name.empty() ? "null" : json_string(s.name)) +
               ",\"sites\":" + std::to_string(s.sites) + ",\"status\":" + json_string(s.status) +
               ",\"note\":" + json_string(s.note) + ",\"objects\":" +
               json_array(s.objects, [](const std::string& p) { return json_string(p); }) +
               ",\"implicit\":" + (s.implicit.empty() ? "null" : json_string(s.implicit)) + "}";
    });
    out << ",\"unresolved\":" << json_array(report.unresolved, [](const UnresolvedSite& u) {
        return "{\"object\":" + json_string(u.object) + ",\"address\":" + json_string(hex(u.addr)) +
               ",\"function\":" + json_string(u.function) + ",\"partial_values\":" +
               json_array(u.partial_values, [](int64_t v) { return std::to_string(v); }) +
               ",\"reasons\":" + json_array(u.reasons, json_unresolved) + "}";
    });
    char share[32];
    std::snprintf(share, sizeof share, "%.4f", report.resolution_share());
    out << ",\"resolution\":{\"sites\":" << report.total_sites
        << ",\"resolved\":" << report.resolved_sites << ",\"share\":" << share << "}";
    out << ",\"verdict\":{\"text\":" << json_string(report.verdict.text)
        << ",\"ready\":" << (report.verdict.exit_status == 0 ? "true" : "false") << ",\"missing\":"
        << json_array(report.verdict.missing, [](const std::string& s) { return json_string(s); })
        << ",\"partial\":"
        << json_array(report.verdict.partial, [](const std::string& s) { return json_string(s); })
        << ",\"exit_status\":" << report.verdict.exit_status << "}}\n";
    return out.str();
}

}  // namespace utx::analyze
