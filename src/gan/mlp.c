/* MLP generator and discriminator for 2D point datasets (see include/vkgan/dcgan.h). */
#include "vkgan/dcgan.h"
#include "vkgan/error.h"

static int mlp(int hidden, int depth, int out, vkg_activation act, float slope, vkg_layer_spec *L) {
    if (hidden < 1 || depth < 1 || 2 * depth + 1 > VKG_MAX_LAYERS)
        return vkg_set_error("an MLP needs 1 to %d hidden layers of at least one unit",
                             (VKG_MAX_LAYERS - 1) / 2);
    int n = 0;
    for (int i = 0; i < depth; i++) {
        L[n++] = (vkg_layer_spec){.kind = VKG_LAYER_DENSE, .out = hidden, .bias = 1};
        L[n++] = (vkg_layer_spec){.kind = VKG_LAYER_ACTIVATION, .act = act, .slope = slope};
    }
    L[n++] = (vkg_layer_spec){.kind = VKG_LAYER_DENSE, .out = out, .bias = 1};
    return n;
}

int vkg_mlp_generator(int hidden, int depth, int out, vkg_layer_spec *layers) {
    return mlp(hidden, depth, out, VKG_RELU, 0, layers);
}

int vkg_mlp_discriminator(int hidden, int depth, vkg_layer_spec *layers) {
    return mlp(hidden, depth, 1, VKG_LEAKY_RELU, 0.2f, layers);
}
