// Declarations only (include/CLibFuzzer.h); the definitions come from libFuzzer at link time.
#include "CLibFuzzer.h"
