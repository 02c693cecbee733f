//! The compositor: planar I420 pictures ([`Picture`]), filled with the
//! canvas colour and overlaid with scaled input pictures (or a cropped
//! part of them) and colour rectangles (canvas layers) at their layout
//! rectangles. Pure pixel work: no codec, no clock, no I/O.

/// An 8-bit I420 picture: a luma plane and two chroma planes at half
/// resolution (rounded up), each tightly packed (stride = plane width).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Picture {
    /// Width in pixels.
    pub(crate) width: usize,
    /// Height in pixels.
    pub(crate) height: usize,
    /// Luma, `width * height` bytes.
    pub(crate) y: Vec<u8>,
    /// Cb, `chroma_width * chroma_height` bytes.
    pub(crate) u: Vec<u8>,
    /// Cr, same size as `u`.
    pub(crate) v: Vec<u8>,
}

/// A colour in Y'CbCr (BT.601 limited range, as H.264 signals by default).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Yuv {
    pub(crate) y: u8,
    pub(crate) u: u8,
    pub(crate) v: u8,
}

impl Yuv {
    /// Black.
    pub(crate) const BLACK: Yuv = Yuv {
        y: 16,
        u: 128,
        v: 128,
    };

    /// Converts 8-bit R'G'B' (BT.601, limited-range output).
    pub(crate) fn from_rgb(r: u8, g: u8, b: u8) -> Yuv {
        let (r, g, b) = (i32::from(r), i32::from(g), i32::from(b));
        let y = ((66 * r + 129 * g + 25 * b + 128) >> 8) + 16;
        let u = ((-38 * r - 74 * g + 112 * b + 128) >> 8) + 128;
        let v = ((112 * r - 94 * g - 18 * b + 128) >> 8) + 128;
        Yuv {
            y: clamp_u8(y),
            u: clamp_u8(u),
            v: clamp_u8(v),
        }
    }
}

fn clamp_u8(x: i32) -> u8 {
    x.clamp(0, 255) as u8
}

/// An axis-aligned rectangle in output pixels; may extend past the canvas
/// (clipped when drawn).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Rect {
    pub(crate) x: i64,
    pub(crate) y: i64,
    pub(crate) width: usize,
    pub(crate) height: usize,
}

impl Picture {
    /// A picture of `width` × `height` filled with `colour`.
    pub(crate) fn filled(width: usize, height: usize, colour: Yuv) -> Picture {
        let (cw, ch) = chroma_size(width, height);
        Picture {
            width,
            height,
            y: vec![colour.y; width * height],
            u: vec![colour.u; cw * ch],
            v: vec![colour.v; cw * ch],
        }
    }

    /// Copies planes given with strides (as decoders hand them out) into a
    /// tightly packed picture; `None` if a plane is too short.
    pub(crate) fn from_planes(
        (width, height): (usize, usize),
        (ys, us, vs): (usize, usize, usize),
        (y, u, v): (&[u8], &[u8], &[u8]),
    ) -> Option<Picture> {
        let (cw, ch) = chroma_size(width, height);
        Some(Picture {
            width,
            height,
            y: pack(y, ys, width, height)?,
            u: pack(u, us, cw, ch)?,
            v: pack(v, vs, cw, ch)?,
        })
    }

    /// Fills the whole picture with `colour`.
    pub(crate) fn fill(&mut self, colour: Yuv) {
        self.y.fill(colour.y);
        self.u.fill(colour.u);
        self.v.fill(colour.v);
    }

    /// The colour of the pixel at (x, y), if inside.
    #[cfg(test)]
    pub(crate) fn pixel(&self, x: usize, y: usize) -> Option<Yuv> {
        if x >= self.width || y >= self.height {
            return None;
        }
        let (cw, _) = chroma_size(self.width, self.height);
        let c = (y / 2) * cw + x / 2;
        Some(Yuv {
            y: self.y[y * self.width + x],
            u: self.u[c],
            v: self.v[c],
        })
    }

    /// Draws `src` scaled (nearest neighbour) into `dst`, clipped to this
    /// picture.
    pub(crate) fn draw(&mut self, src: &Picture, dst: Rect) {
        let all = Rect {
            x: 0,
            y: 0,
            width: src.width,
            height: src.height,
        };
        self.draw_region(src, all, dst);
    }

    /// Draws the part `region` of `src` (`CropParams`; it must lie within
    /// `src`, else nothing is drawn) scaled into `dst`, clipped to this
    /// picture.
    pub(crate) fn draw_region(&mut self, src: &Picture, region: Rect, dst: Rect) {
        let inside = region.x >= 0
            && region.y >= 0
            && region.x as usize + region.width <= src.width
            && region.y as usize + region.height <= src.height;
        if !inside || region.width == 0 || region.height == 0 {
            return;
        }
        blit(
            Plane::new(&mut self.y, self.width, self.height),
            Source::new(&src.y, src.width, region),
            dst,
        );
        let (cw, ch) = chroma_size(self.width, self.height);
        let (scw, sch) = chroma_size(src.width, src.height);
        // Chroma at half resolution: the region within the chroma plane.
        let cx = (region.x / 2) as usize;
        let cy = (region.y / 2) as usize;
        let cregion = Rect {
            x: cx as i64,
            y: cy as i64,
            width: region.width.div_ceil(2).clamp(1, scw - cx),
            height: region.height.div_ceil(2).clamp(1, sch - cy),
        };
        let cdst = half(dst);
        blit(
            Plane::new(&mut self.u, cw, ch),
            Source::new(&src.u, scw, cregion),
            cdst,
        );
        blit(
            Plane::new(&mut self.v, cw, ch),
            Source::new(&src.v, scw, cregion),
            cdst,
        );
    }

    /// Fills `dst` with `colour` (a canvas layer), clipped to this picture.
    pub(crate) fn fill_rect(&mut self, dst: Rect, colour: Yuv) {
        let one = Rect {
            x: 0,
            y: 0,
            width: 1,
            height: 1,
        };
        blit(
            Plane::new(&mut self.y, self.width, self.height),
            Source::new(&[colour.y], 1, one),
            dst,
        );
        let (cw, ch) = chroma_size(self.width, self.height);
        let cdst = half(dst);
        blit(
            Plane::new(&mut self.u, cw, ch),
            Source::new(&[colour.u], 1, one),
            cdst,
        );
        blit(
            Plane::new(&mut self.v, cw, ch),
            Source::new(&[colour.v], 1, one),
            cdst,
        );
    }
}

/// A rectangle's even-aligned half (its place in a chroma plane).
fn half(r: Rect) -> Rect {
    Rect {
        x: r.x.div_euclid(2),
        y: r.y.div_euclid(2),
        width: r.width.div_ceil(2),
        height: r.height.div_ceil(2),
    }
}

/// Size of a chroma plane of a `width` × `height` I420 picture.
pub(crate) fn chroma_size(width: usize, height: usize) -> (usize, usize) {
    (width.div_ceil(2), height.div_ceil(2))
}

fn pack(plane: &[u8], stride: usize, width: usize, height: usize) -> Option<Vec<u8>> {
    if stride < width {
        return None;
    }
    let mut out = Vec::with_capacity(width * height);
    for row in 0..height {
        let start = row * stride;
        out.extend_from_slice(plane.get(start..start + width)?);
    }
    Some(out)
}

struct Plane<'a> {
    data: &'a mut [u8],
    width: usize,
    height: usize,
}

impl<'a> Plane<'a> {
    fn new(data: &'a mut [u8], width: usize, height: usize) -> Plane<'a> {
        Plane {
            data,
            width,
            height,
        }
    }
}

/// The part of a source plane that is drawn.
struct Source<'a> {
    data: &'a [u8],
    /// Row length of `data`.
    stride: usize,
    region: Rect,
}

impl<'a> Source<'a> {
    fn new(data: &'a [u8], stride: usize, region: Rect) -> Source<'a> {
        Source {
            data,
            stride,
            region,
        }
    }
}

/// Nearest-neighbour scale of a region of one plane into `dst`, clipped.
/// A region reaching past its plane draws nothing.
fn blit(out: Plane<'_>, src: Source<'_>, dst: Rect) {
    let r = src.region;
    if r.width == 0 || r.height == 0 || dst.width == 0 || dst.height == 0 || r.x < 0 || r.y < 0 {
        return;
    }
    let (rx, ry) = (r.x as usize, r.y as usize);
    if rx + r.width > src.stride || (ry + r.height) * src.stride > src.data.len() {
        return;
    }
    let x0 = dst.x.max(0);
    let y0 = dst.y.max(0);
    let x1 = (dst.x + dst.width as i64).min(out.width as i64);
    let y1 = (dst.y + dst.height as i64).min(out.height as i64);
    if x0 >= x1 || y0 >= y1 {
        return;
    }
    // Source column of each output column, computed once per draw.
    let cols: Vec<usize> = (x0..x1)
        .map(|x| rx + (((x - dst.x) as usize) * r.width / dst.width).min(r.width - 1))
        .collect();
    for y in y0..y1 {
        let sy = ry + (((y - dst.y) as usize) * r.height / dst.height).min(r.height - 1);
        let src_row = &src.data[sy * src.stride..(sy + 1) * src.stride];
        let start = y as usize * out.width + x0 as usize;
        let row = &mut out.data[start..start + cols.len()];
        for (d, &sx) in row.iter_mut().zip(&cols) {
            *d = src_row[sx];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RED: Yuv = Yuv {
        y: 82,
        u: 90,
        v: 240,
    };
    const BLUE: Yuv = Yuv {
        y: 41,
        u: 240,
        v: 110,
    };

    #[test]
    fn rgb_conversion_matches_bt601() {
        assert_eq!(Yuv::from_rgb(255, 0, 0), RED);
        assert_eq!(Yuv::from_rgb(0, 0, 255), BLUE);
        assert_eq!(Yuv::from_rgb(0, 0, 0), Yuv::BLACK);
        assert_eq!(Yuv::from_rgb(255, 255, 255).y, 235);
    }

    #[test]
    fn draws_scaled_inputs_at_their_rectangles() {
        let mut canvas = Picture::filled(64, 36, Yuv::BLACK);
        let red = Picture::filled(16, 16, RED);
        let blue = Picture::filled(10, 30, BLUE);
        let left = Rect {
            x: 0,
            y: 0,
            width: 32,
            height: 36,
        };
        let right = Rect {
            x: 32,
            y: 0,
            width: 32,
            height: 36,
        };
        canvas.draw(&red, left);
        canvas.draw(&blue, right);
        for (x, y) in [(0, 0), (31, 35), (16, 18)] {
            assert_eq!(canvas.pixel(x, y), Some(RED), "({x},{y})");
        }
        for (x, y) in [(32, 0), (63, 35), (48, 18)] {
            assert_eq!(canvas.pixel(x, y), Some(BLUE), "({x},{y})");
        }
    }

    #[test]
    fn later_draws_cover_earlier_and_edges_clip() {
        let mut canvas = Picture::filled(40, 20, Yuv::BLACK);
        canvas.draw(
            &Picture::filled(4, 4, RED),
            Rect {
                x: 0,
                y: 0,
                width: 40,
                height: 20,
            },
        );
        // Half off the right and bottom edges; also one entirely outside.
        canvas.draw(
            &Picture::filled(4, 4, BLUE),
            Rect {
                x: 30,
                y: 10,
                width: 20,
                height: 20,
            },
        );
        canvas.draw(
            &Picture::filled(4, 4, BLUE),
            Rect {
                x: -50,
                y: 0,
                width: 10,
                height: 10,
            },
        );
        assert_eq!(canvas.pixel(29, 9), Some(RED));
        assert_eq!(canvas.pixel(30, 10), Some(BLUE));
        assert_eq!(canvas.pixel(39, 19), Some(BLUE));
        assert_eq!(canvas.pixel(0, 0), Some(RED));
        assert_eq!(canvas.pixel(40, 0), None);
    }

    #[test]
    fn scaling_keeps_the_source_pattern() {
        // A 2x1 source (left red, right blue) stretched over 8x4.
        let mut src = Picture::filled(2, 2, RED);
        src.y[1] = BLUE.y;
        src.y[3] = BLUE.y;
        let mut canvas = Picture::filled(8, 4, Yuv::BLACK);
        canvas.draw(
            &src,
            Rect {
                x: 0,
                y: 0,
                width: 8,
                height: 4,
            },
        );
        assert_eq!(canvas.y[0], RED.y);
        assert_eq!(canvas.y[3], RED.y);
        assert_eq!(canvas.y[4], BLUE.y);
        assert_eq!(canvas.y[7 + 8 * 3], BLUE.y);
    }

    #[test]
    fn planes_with_strides_are_packed() {
        let y: Vec<u8> = (0..4 * 8).map(|i| i as u8).collect();
        let c = vec![7u8; 2 * 8];
        let p = Picture::from_planes((3, 4), (8, 8, 8), (&y, &c, &c)).expect("planes");
        assert_eq!(p.y, vec![0, 1, 2, 8, 9, 10, 16, 17, 18, 24, 25, 26]);
        assert_eq!(p.u.len(), 4);
        assert!(Picture::from_planes((3, 4), (2, 8, 8), (&y, &c, &c)).is_none());
    }
    #[test]
    fn a_cropped_region_fills_the_rectangle() {
        // Left half red, right half blue; the crop takes the right half.
        let mut src = Picture::filled(8, 4, RED);
        src.draw(
            &Picture::filled(2, 2, BLUE),
            Rect {
                x: 4,
                y: 0,
                width: 4,
                height: 4,
            },
        );
        let mut canvas = Picture::filled(16, 8, Yuv::BLACK);
        let right = Rect {
            x: 4,
            y: 0,
            width: 4,
            height: 4,
        };
        let all = Rect {
            x: 0,
            y: 0,
            width: 16,
            height: 8,
        };
        canvas.draw_region(&src, right, all);
        for (x, y) in [(0, 0), (15, 7), (8, 4)] {
            assert_eq!(canvas.pixel(x, y), Some(BLUE), "({x},{y})");
        }
        // A region outside the source draws nothing.
        let mut untouched = Picture::filled(16, 8, Yuv::BLACK);
        let outside = Rect {
            x: 6,
            y: 0,
            width: 4,
            height: 4,
        };
        untouched.draw_region(&src, outside, all);
        assert_eq!(untouched.pixel(0, 0), Some(Yuv::BLACK));
    }

    #[test]
    fn colour_rectangles_clip_to_the_canvas() {
        let mut canvas = Picture::filled(10, 10, Yuv::BLACK);
        canvas.fill_rect(
            Rect {
                x: 6,
                y: -2,
                width: 10,
                height: 6,
            },
            RED,
        );
        assert_eq!(canvas.pixel(6, 0), Some(RED));
        assert_eq!(canvas.pixel(9, 3), Some(RED));
        assert_eq!(canvas.pixel(5, 0), Some(Yuv::BLACK));
        assert_eq!(canvas.pixel(9, 4), Some(Yuv::BLACK));
    }
}
