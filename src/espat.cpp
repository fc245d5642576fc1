// espat::compiled: the library's stacks built once (ESPAT_SEPARATE_COMPILATION; see espat/src.hpp).
#include <espat/src.hpp>
