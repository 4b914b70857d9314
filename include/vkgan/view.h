/* vkgan view: a run directory of vkgan train in the window. */
#ifndef VKGAN_VIEW_H
#define VKGAN_VIEW_H

/* A run directory in the window (graphs, saved grids, G from the newest checkpoint, a latent
 * walk); with shot_path, one frame is written there and the window closes. Returns the exit
 * code (errors printed). */
int vkg_view_run(const char *dir, const char *shot_path, const char *device, int validation);

#endif
