// workgroup_sum(v): the sum of v over the workgroup, returned to every thread, added in a fixed
// order (deterministic). With VKGAN_SUBGROUP it uses subgroup arithmetic, otherwise a
// shared-memory tree. REDUCE_THREADS, the workgroup size (a power of two), is specialization
// constant 0: 256 on GPUs, fewer on CPU devices where every barrier is a context switch.
layout(local_size_x_id = 0) in;
layout(constant_id = 0) const uint REDUCE_THREADS = 256;

#ifdef VKGAN_SUBGROUP
#extension GL_KHR_shader_subgroup_arithmetic : require
shared float reduce_partial[REDUCE_THREADS];
float workgroup_sum(float v) {
    v = subgroupAdd(v);
    if (subgroupElect()) reduce_partial[gl_SubgroupID] = v;
    barrier();
    float total = 0.0;
    for (uint i = 0; i < gl_NumSubgroups; i++) total += reduce_partial[i];
    barrier();
    return total;
}
#else
shared float reduce_partial[REDUCE_THREADS];
float workgroup_sum(float v) {
    uint tid = gl_LocalInvocationIndex;
    reduce_partial[tid] = v;
    barrier();
    for (uint s = REDUCE_THREADS / 2; s > 0; s >>= 1) {
        if (tid < s) reduce_partial[tid] += reduce_partial[tid + s];
        barrier();
    }
    float total = reduce_partial[0];
    barrier();
    return total;
}
#endif
