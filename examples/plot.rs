//! Pictures of every activation: f and f' computed on the GPU, the CPU
//! reference drawn over them, and the error below each curve, into one PNG
//! grid and one PNG per op.
//!
//! ```sh
//! cargo run --release --example plot                     # docs/plots/*.png, first adapter
//! cargo run --release --example plot -- --adapter gl --out /tmp/plots
//! ```
//!
//! Each panel spans x in [-6, 6] (1,024 points). Top: f(x) from the GPU in
//! blue and f'(x) in red, the CPU reference (f64, rounded to f32) as a thin
//! black line on top of each; the thin grey lines are y = 0 and x = 0, and
//! each panel is scaled to its own curves. Bottom strip: the error in ULPs
//! of the GPU against the reference, f in blue and f' in red, on a fixed
//! scale of 0 to 4 ULPs (points beyond are drawn at the top edge). No text
//! is drawn (no font is needed); the grid holds the ops in the order of
//! `Activation::ALL`, six per row, and the per-op files are named after them.

use std::error::Error;
use std::path::PathBuf;

use plotters::prelude::*;
use wgpu_activations::{Activation, Context, cpu};

type Res<T> = Result<T, Box<dyn Error>>;

const POINTS: usize = 1024;
const X_RANGE: (f32, f32) = (-6.0, 6.0);
const CELL: (u32, u32) = (320, 240);
const COLUMNS: usize = 6;
/// The error strip's top: 4 ULPs.
const ERROR_SCALE: f64 = 4.0;

/// ULPs between two f32 (0 where both are NaN; NaN against a number is
/// drawn at the top of the strip).
fn ulps(a: f32, b: f32) -> f64 {
    if a.is_nan() && b.is_nan() {
        return 0.0;
    }
    if a.is_nan() || b.is_nan() {
        return f64::INFINITY;
    }
    let key = |v: f32| {
        let bits = v.to_bits() as i64;
        if bits & 0x8000_0000 != 0 {
            0x8000_0000 - bits
        } else {
            bits
        }
    };
    (key(a) - key(b)).unsigned_abs() as f64
}

struct Curves {
    x: Vec<f32>,
    forward: Vec<f32>,
    derivative: Vec<f32>,
    forward_ref: Vec<f32>,
    derivative_ref: Vec<f32>,
}

fn curves(ctx: &Context, act: Activation) -> Res<Curves> {
    let x: Vec<f32> = (0..POINTS)
        .map(|i| X_RANGE.0 + (X_RANGE.1 - X_RANGE.0) * i as f32 / (POINTS - 1) as f32)
        .collect();
    Ok(Curves {
        forward: ctx.forward(act, &x)?,
        derivative: ctx.derivative(act, &x)?,
        forward_ref: cpu::forward(act, &x)?,
        derivative_ref: cpu::derivative(act, &x)?,
        x,
    })
}

/// Draws one op's panel into `area`.
fn draw_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    c: &Curves,
) -> Res<()>
where
    DB::ErrorType: 'static,
{
    area.fill(&WHITE)?;
    let (_, height) = area.dim_in_pixel();
    let (top, bottom) = area.split_vertically(height * 3 / 4);
    let finite = c
        .forward
        .iter()
        .chain(&c.derivative)
        .copied()
        .filter(|v| v.is_finite());
    let (lo, hi) = finite.fold((0.0f32, 0.0f32), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let pad = ((hi - lo) * 0.08).max(0.05);
    let mut chart = ChartBuilder::on(&top)
        .margin(6)
        .build_cartesian_2d(X_RANGE.0..X_RANGE.1, (lo - pad)..(hi + pad))?;
    let grey = RGBColor(200, 200, 200);
    chart.draw_series(LineSeries::new([(X_RANGE.0, 0.0), (X_RANGE.1, 0.0)], grey))?;
    chart.draw_series(LineSeries::new([(0.0, lo - pad), (0.0, hi + pad)], grey))?;
    let line = |ys: &[f32]| -> Vec<(f32, f32)> {
        c.x.iter()
            .zip(ys)
            .filter(|(_, y)| y.is_finite())
            .map(|(&x, &y)| (x, y))
            .collect()
    };
    chart.draw_series(LineSeries::new(line(&c.forward), BLUE.stroke_width(3)))?;
    chart.draw_series(LineSeries::new(line(&c.derivative), RED.stroke_width(3)))?;
    chart.draw_series(LineSeries::new(line(&c.forward_ref), BLACK.stroke_width(1)))?;
    chart.draw_series(LineSeries::new(
        line(&c.derivative_ref),
        BLACK.stroke_width(1),
    ))?;

    bottom.fill(&RGBColor(245, 245, 245))?;
    let mut strip = ChartBuilder::on(&bottom)
        .margin(4)
        .build_cartesian_2d(X_RANGE.0..X_RANGE.1, 0.0..ERROR_SCALE)?;
    for ulp in 1..ERROR_SCALE as i32 {
        strip.draw_series(LineSeries::new(
            [(X_RANGE.0, f64::from(ulp)), (X_RANGE.1, f64::from(ulp))],
            RGBColor(225, 225, 225),
        ))?;
    }
    let errors = |got: &[f32], want: &[f32]| -> Vec<(f32, f64)> {
        c.x.iter()
            .zip(got.iter().zip(want))
            .map(|(&x, (&g, &w))| (x, ulps(g, w).min(ERROR_SCALE)))
            .collect()
    };
    strip.draw_series(LineSeries::new(errors(&c.forward, &c.forward_ref), BLUE))?;
    strip.draw_series(LineSeries::new(
        errors(&c.derivative, &c.derivative_ref),
        RED,
    ))?;
    Ok(())
}

fn main() -> Res<()> {
    let mut out = PathBuf::from("docs/plots");
    let mut adapter: Option<String> = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--out" => out = PathBuf::from(args.next().ok_or("--out DIR")?),
            "--adapter" => adapter = Some(args.next().ok_or("--adapter TEXT")?.to_lowercase()),
            "-h" | "--help" => {
                println!(
                    "usage: cargo run --release --example plot -- [--out DIR] [--adapter TEXT]"
                );
                return Ok(());
            }
            other => return Err(format!("unknown option {other}").into()),
        }
    }
    let ctx = Context::all_adapters()?
        .into_iter()
        .find(|c| {
            adapter.as_ref().is_none_or(|w| {
                format!("{} {:?}", c.adapter_name(), c.backend())
                    .to_lowercase()
                    .contains(w)
            })
        })
        .ok_or("no adapter matches --adapter")?;
    std::fs::create_dir_all(&out)?;
    let ops = Activation::ALL;
    let all: Vec<(Activation, Curves)> = ops
        .iter()
        .map(|&act| Ok((act, curves(&ctx, act)?)))
        .collect::<Res<_>>()?;
    let rows = ops.len().div_ceil(COLUMNS);
    let grid_path = out.join("activations.png");
    {
        let root = BitMapBackend::new(&grid_path, (CELL.0 * COLUMNS as u32, CELL.1 * rows as u32))
            .into_drawing_area();
        root.fill(&WHITE)?;
        let cells = root.split_evenly((rows, COLUMNS));
        for ((_, c), cell) in all.iter().zip(&cells) {
            draw_panel(&cell.margin(2, 2, 2, 2), c)?;
        }
        root.present()?;
    }
    let mut worst = Vec::new();
    for (act, c) in &all {
        let path = out.join(format!("{}.png", act.name()));
        let root = BitMapBackend::new(&path, CELL).into_drawing_area();
        draw_panel(&root, c)?;
        root.present()?;
        let max = |got: &[f32], want: &[f32]| {
            got.iter()
                .zip(want)
                .map(|(&g, &w)| ulps(g, w))
                .fold(0.0f64, f64::max)
        };
        worst.push(format!(
            "{:<12} f {:>3} ULP  f' {:>3} ULP",
            act.name(),
            max(&c.forward, &c.forward_ref),
            max(&c.derivative, &c.derivative_ref)
        ));
    }
    println!(
        "plots on {} ({:?}): {} and {} per-op PNGs in {}",
        ctx.adapter_name(),
        ctx.backend(),
        grid_path.display(),
        ops.len(),
        out.display()
    );
    println!("worst plain ULPs over the plotted points:");
    for line in worst {
        println!("  {line}");
    }
    Ok(())
}
