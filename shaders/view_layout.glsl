// The window's frame description: one array of 32-bit words that the host fills (C includes this
// file too, so it holds #defines only). Colors are 0xAARRGGBB; alpha 255 paints, less blends.
#define VP_WIDTH 0        // frame size in pixels
#define VP_HEIGHT 1
#define VP_BACKGROUND 2
#define VP_BOXES 3        // boxes in use
#define VP_PRIMS 4        // rectangles and glyphs in use
#define VP_POINTS 5       // generated 2D points to draw (scatter panel)
#define VP_SPAN_STRIDE 6  // columns per series in the span buffer
#define VP_RED_FIRST 7    // 1: the frame is R,G,B,A bytes; 0: B,G,R,A

// The image panel: a grid of generated images (float NCHW in [-1, 1]), one packed image (a saved
// grid, 0xAARRGGBB) or a scatter plot of 2D points over the data's modes.
#define VP_IMG 8
#define VP_IMG_NONE 0
#define VP_IMG_TENSOR 1
#define VP_IMG_PACKED 2
#define VP_IMG_SCATTER 3
#define VI_MODE 0
#define VI_X0 1           // the panel's rectangle [x0, x1) x [y0, y1)
#define VI_Y0 2
#define VI_X1 3
#define VI_Y1 4
#define VI_COLS 5
#define VI_ROWS 6
#define VI_SCALE 7        // screen pixels per image pixel (nearest neighbour)
#define VI_GAP 8          // pixels between images
#define VI_CHANNELS 9
#define VI_IH 10
#define VI_IW 11
#define VI_COUNT 12       // images in the buffer
#define VI_CLASSES 13     // > 0: row r, column c shows example c * classes + r
#define VI_OX 14          // top-left pixel of the grid
#define VI_OY 15
#define VI_EXTENT 16      // scatter: data units from the centre to the edge (float bits)
#define VI_MODES 17       // scatter: modes drawn as circles
#define VI_RADIUS 18      // scatter: their radius in pixels
#define VI_POINT_COLOR 19
#define VI_RING_COLOR 20

#define VP_MODES 32       // up to 32 modes: pixel x, y
#define VP_MAX_MODES 32

#define VP_BOX 96         // boxes: x0, y0, x1, y1, color, layer (0 under the panels' content, 1 over)
#define VP_BOX_SIZE 6
#define VP_MAX_BOXES 16

#define VP_PLOT 192       // graphs: the plot area, its series (spans), grid lines, hover cursor
#define VP_PLOT_SIZE 48
#define VP_MAX_PLOTS 3
#define VL_X0 0
#define VL_Y0 1
#define VL_X1 2
#define VL_Y1 3
#define VL_SERIES 4       // series in the span buffer (at most VP_MAX_SERIES)
#define VL_HOVER 5        // x of the hover cursor, or -1
#define VL_GRID_X 6       // vertical grid lines in use
#define VL_GRID_Y 7       // horizontal grid lines in use
#define VL_GRID_COLOR 8
#define VL_CURSOR_COLOR 9
#define VL_COLORS 10      // one per series
#define VL_GX 18          // x of each vertical grid line
#define VL_GY 26          // y of each horizontal grid line
#define VP_MAX_SERIES 8
#define VP_MAX_GRID 8

#define VP_PRIM 352       // rectangles and glyphs: x, y, w, h, color, glyph | scale << 8 | layer << 16
#define VP_PRIM_SIZE 6    // (glyph 0: a solid rectangle; else ASCII code - 31 in the font)
#define VP_MAX_PRIMS 4096
// Per 16x16 tile of the frame (row-major, (width + 15) / 16 per row), what may touch it: bit i
// box i, bit 16 + k graph k, bit 20 the image panel. The compose shader skips everything else.
#define VP_TILES (VP_PRIM + VP_PRIM_SIZE * VP_MAX_PRIMS)
#define VP_TILE 16
#define VT_PLOT 16
#define VT_IMAGE 20
#define VP_WORDS (VP_TILES + (VP_MAX_COLUMNS / VP_TILE) * (VP_MAX_COLUMNS / VP_TILE))

#define VP_MAX_COLUMNS 4096 // widest frame the span buffer covers
