/* omega/cudagate/Driver.h compiles as C99 with -pedantic: the stand-in driver and the test programs are C. */
#include "omega/cudagate/Driver.h"

typedef char launch_config_is_56_bytes[sizeof(CUlaunchConfig) == 56 ? 1 : -1];
typedef char node_params_are_256_bytes[sizeof(CUgraphNodeParams) == 256 ? 1 : -1];
typedef char not_permitted_is_800[CUDA_ERROR_NOT_PERMITTED == 800 ? 1 : -1];
