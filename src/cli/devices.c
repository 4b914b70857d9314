/* vkgan devices: every usable Vulkan device and what it offers. */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"

static const vkg_opt_table devices_table = {
    "devices",
    "[--device D] [--validation]",
    "Lists each Vulkan device (one entry per physical GPU, even when two drivers expose it): "
    "name, type, driver, Vulkan version, memory heaps, subgroup size, shared memory, fp16 / int8 "
    "/ cooperative-matrix support. The index or a part of the name selects a device with "
    "--device; given here, only that device is listed (and the choice is checked). With "
    "--validation the device is also opened with the validation layer on.",
    NULL,
    0,
    cli_device_opts,
    2};

static void print_version(const char *label, uint32_t v) {
    printf("    %-22s %u.%u.%u\n", label, v >> 22, (v >> 12) & 0x3ff, v & 0xfff);
}

int cmd_devices(int argc, char **argv) {
    cli_device_args a;
    int code = cli_parse(&devices_table, argc, argv, &a);
    if (code >= 0) return code;
    vkg_device_info devices[32];
    int count = 0, only = -1;
    if (vkg_list_devices(devices, 32, &count) < 0) return cli_error("%s", vkg_error());
    if (count == 0)
        return cli_error("no Vulkan device found: install a driver "
                         "('apt-get install mesa-vulkan-drivers' gives the CPU device lavapipe)");
    if (a.device || a.validation) { /* open the chosen device: the choice and the layer work */
        vkg_ctx_options opts = cli_ctx_options(a.device, a.validation);
        opts.quiet = 1;
        vkg_ctx *ctx = vkg_ctx_create(&opts);
        if (!ctx) return cli_error("%s", vkg_error());
        for (int i = 0; i < count; i++)
            if (strcmp(devices[i].name, vkg_ctx_device(ctx)->name) == 0 && only < 0) only = i;
        vkg_ctx_destroy(ctx);
    }
    for (int i = 0; i < count; i++) {
        if (a.device && only >= 0 && i != only) continue;
        const vkg_device_info *d = &devices[i];
        printf("[%d] %s\n", i, d->name);
        printf("    %-22s %s\n", "type", d->type);
        printf("    %-22s %s %s (version 0x%x)\n", "driver", d->driver_name, d->driver_info,
               d->driver_version);
        print_version("vulkan", d->api_version);
        for (int h = 0; h < d->heap_count; h++)
            printf("    memory heap %-10d %.1f GiB%s\n", h, d->heap_size[h] / 1073741824.0,
                   d->heap_device_local[h] ? " (device local)" : "");
        printf("    %-22s %u (arithmetic in compute: %s)\n", "subgroup size", d->subgroup_size,
               d->subgroup_arithmetic ? "yes" : "no");
        printf("    %-22s %u KiB, %u threads per workgroup\n", "shared memory",
               d->shared_memory / 1024, d->max_workgroup_invocations);
        printf("    %-22s %.0f MiB\n", "max storage buffer",
               d->max_storage_buffer_range / 1048576.0);
        printf("    %-22s fp16 %s, int8 %s, cooperative matrix %s\n", "features",
               d->fp16 ? "yes" : "no", d->int8 ? "yes" : "no",
               d->cooperative_matrix ? "yes" : "no");
    }
    return 0;
}
