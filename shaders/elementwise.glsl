// Elementwise shaders run 256 threads a workgroup over a grid-stride loop, so any count fits
// in the one-dimensional dispatch limit.
layout(local_size_x = 256) in;
#define FOR_EACH_ELEMENT(i, count) \
    for (uint i = gl_GlobalInvocationID.x; i < (count); i += gl_NumWorkGroups.x * 256u)
