// minifs/errno.h: the Linux errno values minifs returns (from <asm-generic/errno-base.h> and
// <asm-generic/errno.h>), negated on return.
//
// The names carry a `k` prefix (kENOENT) because hosted code that includes <errno.h> defines
// ENOENT as a macro, and the kernel has its own `utx::kernel::ENOENT`: both can sit beside
// these in one translation unit. The values are Linux's, so -kENOENT == -ENOENT everywhere.
#pragma once

namespace utx::minifs {

enum Errno : int {
    kEPERM = 1,
    kENOENT = 2,
    kEIO = 5,
    kEBADF = 9,
    kENOMEM = 12,
    kEACCES = 13,
    kEBUSY = 16,
    kEEXIST = 17,
    kEXDEV = 18,
    kENOTDIR = 20,
    kEISDIR = 21,
    kEINVAL = 22,
    kEFBIG = 27,
    kENOSPC = 28,
    kEMLINK = 31,
    kENAMETOOLONG = 36,
    kENOTEMPTY = 39,
    kELOOP = 40,
    kEOVERFLOW = 75,
    // Not a Linux errno: a path walk reached a mount (see PathContext::crossing).
    kECrossMount = 4096,
};

}  // namespace utx::minifs
