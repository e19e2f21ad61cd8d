// loader/tests/options_test.cpp: utx-run's command line.
#include "loader/options.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

namespace utx::loader {
namespace {

struct Parsed {
    std::optional<Options> options;
    std::string error;
};

Parsed parse(std::initializer_list<const char*> args) {
    std::vector<const char*> argv = {"utx-run"};
    argv.insert(argv.end(), args);
    argv.push_back(nullptr);
    Parsed p;
    p.options = parse_options(int(argv.size() - 1), argv.data(), p.error);
    return p;
}

void expect_error(std::initializer_list<const char*> args, const std::string& must_contain) {
    Parsed p = parse(args);
    EXPECT_FALSE(p.options.has_value());
    EXPECT_NE(p.error.find(must_contain), std::string::npos) << p.error;
    EXPECT_EQ(p.error.find('\n'), std::string::npos) << p.error;
}

TEST(Options, DefaultsWithJustAProgram) {
    Parsed p = parse({"./prog"});
    ASSERT_TRUE(p.options) << p.error;
    EXPECT_EQ(p.options->program, "./prog");
    EXPECT_TRUE(p.options->args.empty());
    EXPECT_EQ(p.options->memory, 512ULL << 20);
    EXPECT_EQ(p.options->backend, BackendChoice::Auto);
    EXPECT_FALSE(p.options->trace);
    EXPECT_FALSE(p.options->isolate);
    EXPECT_FALSE(p.options->rewrite);
    EXPECT_FALSE(p.options->clear_env);
    EXPECT_FALSE(p.options->help);
    EXPECT_TRUE(p.options->extra_env.empty());
}

TEST(Options, RewriteAndNoRewrite) {
    Parsed p = parse({"--rewrite", "./prog", "--no-rewrite"});
    ASSERT_TRUE(p.options) << p.error;
    EXPECT_TRUE(p.options->rewrite);  // after the program: its own argument
    EXPECT_EQ(p.options->args, std::vector<std::string>{"--no-rewrite"});
    p = parse({"--rewrite", "--no-rewrite", "./prog"});
    ASSERT_TRUE(p.options) << p.error;
    EXPECT_FALSE(p.options->rewrite);  // the last one counts
}

TEST(Options, ProcessLimit) {
    Parsed p = parse({"./prog"});
    ASSERT_TRUE(p.options) << p.error;
    EXPECT_EQ(p.options->pids, 512u);
    p = parse({"--pids", "4096", "./prog"});
    ASSERT_TRUE(p.options) << p.error;
    EXPECT_EQ(p.options->pids, 4096u);
    expect_error({"--pids", "0", "./prog"}, "invalid process limit '0' (1 to 4096)");
    expect_error({"--pids", "4097", "./prog"}, "invalid process limit");
    expect_error({"--pids", "1x", "./prog"}, "invalid process limit");
    expect_error({"--pids"}, "option --pids needs a value");
}

TEST(Options, NoProgram) {
    expect_error({}, "no program given");
    expect_error({"--trace"}, "no program given");
    expect_error({"--"}, "no program given");
}

TEST(Options, UnknownOption) {
    expect_error({"--bogus", "prog"}, "unknown option '--bogus'");
    expect_error({"-x", "prog"}, "unknown option '-x'");
    expect_error({"--trace=1", "prog"}, "unknown option '--trace=1'");
}

TEST(Options, MissingValues) {
    expect_error({"-m"}, "option -m needs a value");
    expect_error({"-e"}, "option -e needs a value");
    expect_error({"--backend"}, "option --backend needs a value");
}

TEST(Options, MemorySizes) {
    struct Case {
        const char* text;
        uint64_t bytes;
    };
    for (Case c :
         {Case{"512M", 512ULL << 20}, Case{"1G", 1ULL << 30}, Case{"2g", 2ULL << 30},
          Case{"64", 64ULL << 20}, Case{"65536K", 64ULL << 20}, Case{"33554432", 32ULL << 20}}) {
        Parsed p = parse({"-m", c.text, "prog"});
        ASSERT_TRUE(p.options) << c.text << ": " << p.error;
        EXPECT_EQ(p.options->memory, c.bytes) << c.text;
    }
    Parsed p = parse({"--memory", "1G", "prog"});
    ASSERT_TRUE(p.options) << p.error;
    EXPECT_EQ(p.options->memory, 1ULL << 30);
}

TEST(Options, BadMemorySizes) {
    for (const char* bad : {"", "G", "1X", "1MB", "-5", "1.5G", "16M", "0", "4097K",
                            "99999999999999G", "18446744073709551616", " 1G"}) {
        Parsed p = parse({"-m", bad, "prog"});
        EXPECT_FALSE(p.options) << "'" << bad << "' accepted";
        EXPECT_NE(p.error.find(std::string("invalid memory size '") + bad + "'"), std::string::npos)
            << p.error;
    }
}

TEST(Options, ParseSize) {
    EXPECT_EQ(parse_size("64K"), 64ULL << 10);
    EXPECT_EQ(parse_size("64k"), 64ULL << 10);
    EXPECT_EQ(parse_size("3m"), 3ULL << 20);
    EXPECT_EQ(parse_size("2G"), 2ULL << 30);
    EXPECT_EQ(parse_size("1048576"), 1048576u);      // large bare numbers are bytes
    EXPECT_EQ(parse_size("65535"), 65535ULL << 20);  // small bare numbers are MiB
    EXPECT_EQ(parse_size("65536G"), 1ULL << 46);
    EXPECT_EQ(parse_size("65537G"), std::nullopt);
    EXPECT_EQ(parse_size(""), std::nullopt);
    EXPECT_EQ(parse_size("K"), std::nullopt);
    EXPECT_EQ(parse_size("12T"), std::nullopt);
    EXPECT_EQ(parse_size("1 G"), std::nullopt);
    EXPECT_EQ(parse_size("18446744073709551615"), std::nullopt);
    EXPECT_EQ(parse_size("18446744073709551616"), std::nullopt);
}

TEST(Options, Environment) {
    Parsed p = parse({"-e", "A=1", "--env", "B=", "-e", "A=2", "--clear-env", "prog"});
    ASSERT_TRUE(p.options) << p.error;
    EXPECT_EQ(p.options->extra_env, (std::vector<std::string>{"A=1", "B=", "A=2"}));
    EXPECT_TRUE(p.options->clear_env);
}

TEST(Options, BadEnvironment) {
    expect_error({"-e", "NOVALUE", "prog"}, "invalid environment entry 'NOVALUE'");
    expect_error({"-e", "=1", "prog"}, "invalid environment entry '=1'");
    expect_error({"-e", "", "prog"}, "invalid environment entry ''");
}

TEST(Options, Backends) {
    EXPECT_EQ(parse({"--backend", "kvm", "p"}).options->backend, BackendChoice::Kvm);
    EXPECT_EQ(parse({"--backend", "qemu", "p"}).options->backend, BackendChoice::Qemu);
    EXPECT_EQ(parse({"--backend", "auto", "p"}).options->backend, BackendChoice::Auto);
    expect_error({"--backend", "bogus", "p"}, "unknown backend 'bogus'");
    expect_error({"--backend", "KVM", "p"}, "unknown backend 'KVM'");
}

TEST(Options, HelpAndVersion) {
    EXPECT_TRUE(parse({"--help"}).options->help);
    EXPECT_TRUE(parse({"-h"}).options->help);
    EXPECT_TRUE(parse({"--trace", "-h", "--bogus"}).options->help);
    EXPECT_TRUE(parse({"--version"}).options->version);
    EXPECT_TRUE(parse({"--which-backend"}).options->which_backend);
    EXPECT_FALSE(parse({"/bin/true"}).options->which_backend);
    std::string usage = usage_text();
    EXPECT_NE(usage.find("usage: utx-run"), std::string::npos);
    for (const char* flag : {"-m SIZE", "-e NAME=VALUE", "--clear-env", "--trace", "--isolate",
                             "--backend", "--which-backend", "--help", "--version"})
        EXPECT_NE(usage.find(flag), std::string::npos) << flag;
}

TEST(Options, DoubleDashEndsOptions) {
    Parsed p = parse({"--trace", "--", "-weird-name", "--help", "-m"});
    ASSERT_TRUE(p.options) << p.error;
    EXPECT_TRUE(p.options->trace);
    EXPECT_FALSE(p.options->help);
    EXPECT_EQ(p.options->program, "-weird-name");
    EXPECT_EQ(p.options->args, (std::vector<std::string>{"--help", "-m"}));
}

TEST(Options, ProgramArgumentsAreVerbatim) {
    Parsed p = parse(
        {"-m", "64M", "/bin/busybox", "ls", "-m", "5", "--trace", "--help", "--", "-e", "", "a b"});
    ASSERT_TRUE(p.options) << p.error;
    EXPECT_EQ(p.options->program, "/bin/busybox");
    EXPECT_EQ(p.options->args, (std::vector<std::string>{"ls", "-m", "5", "--trace", "--help", "--",
                                                         "-e", "", "a b"}));
    EXPECT_EQ(p.options->memory, 64ULL << 20);
    EXPECT_FALSE(p.options->trace);
    EXPECT_FALSE(p.options->help);
    EXPECT_TRUE(p.options->extra_env.empty());
}

TEST(Options, FlagsCombine) {
    Parsed p = parse({"--trace", "--isolate", "--backend", "qemu", "-m", "1G", "prog", "x"});
    ASSERT_TRUE(p.options) << p.error;
    EXPECT_TRUE(p.options->trace);
    EXPECT_TRUE(p.options->isolate);
    EXPECT_EQ(p.options->backend, BackendChoice::Qemu);
    EXPECT_EQ(p.options->memory, 1ULL << 30);
    EXPECT_EQ(p.options->args, std::vector<std::string>{"x"});
}

TEST(Options, NetworkModes) {
    Parsed p = parse({"./prog"});
    ASSERT_TRUE(p.options) << p.error;
    EXPECT_EQ(p.options->net.mode, NetMode::Loopback);
    EXPECT_TRUE(p.options->net.published.empty());
    EXPECT_FALSE(p.options->stats);
    for (auto [text, mode] : {std::pair{"none", NetMode::None}, {"loopback", NetMode::Loopback},
                              {"host", NetMode::Host}}) {
        p = parse({"--net", text, "./prog"});
        ASSERT_TRUE(p.options) << p.error;
        EXPECT_EQ(p.options->net.mode, mode);
    }
    expect_error({"--net", "lan", "./prog"}, "unknown network mode 'lan'");
    expect_error({"--net", "", "./prog"}, "unknown network mode ''");
    expect_error({"--net"}, "option --net needs a value");
    p = parse({"--stats", "./prog"});
    ASSERT_TRUE(p.options) << p.error;
    EXPECT_TRUE(p.options->stats);
}

TEST(Options, PublishedPorts) {
    Parsed p = parse({"-p", "8080:80", "-p", "127.0.0.1:8443:443", "--publish", "[::1]:9000:90",
                      "./prog"});
    ASSERT_TRUE(p.options) << p.error;
    const auto& m = p.options->net.published;
    ASSERT_EQ(m.size(), 3u);
    EXPECT_EQ(m[0].family, 0);
    EXPECT_EQ(m[0].host_port, 8080);
    EXPECT_EQ(m[0].guest_port, 80);
    EXPECT_EQ(m[1].family, AF_INET);
    EXPECT_EQ(m[1].host_port, 8443);
    EXPECT_EQ(address_port(m[1].host_address), 8443);
    EXPECT_EQ(m[2].family, AF_INET6);
    EXPECT_EQ(m[2].guest_port, 90);
    // The same guest port twice in one family is ambiguous; in two families it is not.
    expect_error({"-p", "1000:80", "-p", "1001:80", "./prog"}, "guest port 80 is published twice");
    p = parse({"-p", "127.0.0.1:1000:80", "-p", "[::1]:1001:80", "./prog"});
    EXPECT_TRUE(p.options) << p.error;
    expect_error({"--net", "none", "-p", "1000:80", "./prog"}, "-p publishes nothing with --net none");
}

TEST(Options, BadPublishedPorts) {
    for (const char* bad : {"80", "", ":", "8080:", ":80", "0:80", "80:0", "65536:80", "80:65536",
                            "a:80", "80:b", "1.2.3:80:80", "localhost:80:80", "[::1:80:80",
                            "[::1]80:80", "[]:80:80", "1:2:3:4", "-1:80", "8080:80 "}) {
        Parsed p = parse({"-p", bad, "./prog"});
        EXPECT_FALSE(p.options.has_value()) << bad;
        EXPECT_NE(p.error.find("invalid -p"), std::string::npos) << bad << ": " << p.error;
        EXPECT_EQ(p.error.find('\n'), std::string::npos) << p.error;
    }
}

TEST(NetPolicy, LocalAndWildcardAddresses) {
    auto v4 = [](const char* text) {
        sockaddr_storage s{};
        auto& a = reinterpret_cast<sockaddr_in&>(s);
        a.sin_family = AF_INET;
        inet_pton(AF_INET, text, &a.sin_addr);
        return s;
    };
    auto v6 = [](const char* text) {
        sockaddr_storage s{};
        auto& a = reinterpret_cast<sockaddr_in6&>(s);
        a.sin6_family = AF_INET6;
        inet_pton(AF_INET6, text, &a.sin6_addr);
        return s;
    };
    for (const char* local : {"127.0.0.1", "127.1.2.3", "0.0.0.0"})
        EXPECT_TRUE(address_is_local(v4(local), sizeof(sockaddr_in))) << local;
    for (const char* remote : {"10.0.0.1", "192.0.2.2", "255.255.255.255", "224.0.0.1"})
        EXPECT_FALSE(address_is_local(v4(remote), sizeof(sockaddr_in))) << remote;
    for (const char* local : {"::1", "::", "::ffff:127.0.0.1", "::ffff:0.0.0.0"})
        EXPECT_TRUE(address_is_local(v6(local), sizeof(sockaddr_in6))) << local;
    for (const char* remote : {"fd00::2", "::ffff:10.0.0.1", "ff02::1", "::2", "::127.0.0.1"})
        EXPECT_FALSE(address_is_local(v6(remote), sizeof(sockaddr_in6))) << remote;
    // Too short to hold an address: never local (the host refuses it anyway).
    EXPECT_FALSE(address_is_local(v4("127.0.0.1"), 4));
    EXPECT_FALSE(address_is_local(v6("::1"), 16));
    // An AF_UNSPEC address reads as IPv4, as Linux's UDP sendmsg reads it.
    sockaddr_storage unspec = v4("10.0.0.1");
    unspec.ss_family = AF_UNSPEC;
    EXPECT_FALSE(address_is_local(unspec, sizeof(sockaddr_in)));
    EXPECT_TRUE(address_is_wildcard(v4("0.0.0.0"), sizeof(sockaddr_in)));
    EXPECT_TRUE(address_is_wildcard(v6("::"), sizeof(sockaddr_in6)));
    EXPECT_TRUE(address_is_wildcard(v6("::ffff:0.0.0.0"), sizeof(sockaddr_in6)));
    EXPECT_FALSE(address_is_wildcard(v4("127.0.0.1"), sizeof(sockaddr_in)));
    EXPECT_FALSE(address_is_wildcard(v6("::1"), sizeof(sockaddr_in6)));
}

}  // namespace
}  // namespace utx::loader
