// minifs/tests/constinit_check.cpp: compiled only into minifs_freestanding_check. A global Fs
// is constant-initialised, as the kernel declares it: no constructor runs at boot.
#include "minifs/fs.h"

constinit utx::minifs::Fs minifs_constinit_check_fs;

bool minifs_constinit_check_has_root() { return minifs_constinit_check_fs.root() != nullptr; }
