//! This crate's portable kernels ([`wgsl::portable_module`]) run in a real
//! browser's WebGPU: a headless Chromium, whose WebGPU is Dawn with the Tint
//! shader compiler, on SwiftShader (a CPU Vulkan) where the machine has no
//! GPU. That is a second shader compiler and a second driver beside naga
//! and whatever wgpu runs on, for cross-implementation tests; the test suite
//! and `cli/examples/accuracy.rs --browser` judge its results exactly as they
//! judge wgpu's.
//!
//! How it works: [`Browser::launch`] serves a page from a small HTTP server
//! on `127.0.0.1` (an ephemeral port, nothing else reachable) and starts
//! Chromium on it. The page opens a WebGPU device and then asks the server
//! for work; each [`Browser::run`] is one job: the page fetches the op's
//! modules (compiled once per op and checked with `getCompilationInfo` and
//! an error scope), the inputs, dispatches the body and tail kernels exactly
//! as the `PortableModule` docs say a JavaScript user would, maps the result
//! and posts its raw bytes back. Results come back through the server, not
//! the DOM (`--dump-dom` returns before WebGPU's asynchronous work ends), so
//! no browser driver (WebDriver, Playwright) is needed. Dropping the
//! `Browser` ends Chromium and its child processes.
//!
//! ```no_run
//! use wgpu_activations::{Activation, Mode, browser::Browser};
//!
//! let browser = Browser::launch()?; // $WGPU_ACTIVATIONS_CHROMIUM or chromium on $PATH
//! println!("WebGPU adapter: {}", browser.adapter());
//! let y = browser.run(Activation::Gelu, Mode::Forward, &[-1.0, 0.0, 1.0], &[])?;
//! # let _ = y;
//! # Ok::<(), wgpu_activations::Error>(())
//! ```

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::accuracy::Subnormals;
use crate::catalogue::gated::packed_half;
use crate::catalogue::prelu::{check_rrelu_train, prelu_layout};
use crate::catalogue::rowwise::rows_of;
use crate::families::{Plan, gated, prelu, rowwise};
use crate::wgsl::families::module_source;
use crate::wgsl::{self, PortableModule, Storage};
use crate::{Activation, Dtype, Element, Error, Gated, Mode, Precision, RowOp};

/// Elements per job: larger calls of [`Browser::run`] are split (16 MiB per
/// buffer, well inside WebGPU's default binding limit of 128 MiB).
pub const JOB_LEN: usize = 1 << 22;

/// How long [`Browser::launch`] waits for the page to open a WebGPU device.
pub const LAUNCH_TIMEOUT: Duration = Duration::from_secs(90);

/// How long one job may take by default (compiling an op's modules
/// included); see [`Browser::set_job_timeout`].
pub const DEFAULT_JOB_TIMEOUT: Duration = Duration::from_secs(300);

/// The page: opens the device, then loops over the server's jobs.
const PAGE_HTML: &str = include_str!("page.html");

/// What the page has told the server, and the job it waits for.
#[derive(Default)]
struct State {
    /// The next job for the page (taken by its `/next` request).
    pending: Option<Job>,
    /// Results by job id: the raw f32 bytes, or the page's error message.
    results: HashMap<u64, Result<Vec<u8>, String>>,
    /// The adapter's description once the device is open, or why it failed.
    hello: Option<Result<String, String>>,
    /// Uncaptured WebGPU errors and device loss, as the page reported them.
    faults: Vec<String>,
    /// Compilation messages that are not errors (warnings, info).
    notes: Vec<String>,
    /// Set on drop: the page's next `/next` tells it to stop.
    stop: bool,
}

/// One call of a kernel, as the page receives it.
struct Job {
    id: u64,
    /// The JSON the page reads (everything but the data).
    header: String,
    x: Arc<Vec<u8>>,
    grad_output: Arc<Vec<u8>>,
}

/// The data of the current job, served at `/job/<id>/x` and `/job/<id>/dy`.
#[derive(Default)]
struct Served {
    job: u64,
    x: Arc<Vec<u8>>,
    grad_output: Arc<Vec<u8>>,
}

struct Shared {
    state: Mutex<State>,
    changed: Condvar,
    served: Mutex<Served>,
    /// The modules by index (`/module/<i>/body`, `/module/<i>/tail`).
    modules: Mutex<Vec<PortableModule>>,
    /// The kernel families' modules by index (`/family/<i>`).
    family_modules: Mutex<Vec<String>>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A headless Chromium with a WebGPU device, running this crate's portable
/// kernels on request (see the [module docs](self)). Dropping it ends
/// Chromium and every process it started (a `Browser` kept in a `static` is
/// never dropped: keep it in a local or a struct instead).
pub struct Browser {
    shared: Arc<Shared>,
    child: Mutex<Child>,
    profile: PathBuf,
    log_path: PathBuf,
    adapter: AdapterReport,
    module_ids: Mutex<HashMap<(&'static str, Storage, Precision), usize>>,
    /// The tier of every run; `None`: each dtype's default.
    precision: Option<Precision>,
    family_ids: Mutex<HashMap<String, usize>>,
    next_job: Mutex<u64>,
    job_timeout: Duration,
    executable: PathBuf,
    port: u16,
}

/// What the page reported once its device was open.
#[derive(Clone, Debug, Default)]
struct AdapterReport {
    name: String,
    features: Vec<String>,
    flushes_subnormal_inputs: bool,
    flushes_subnormal_results: bool,
    user_agent: String,
}

impl AdapterReport {
    /// Parses the page's `key=value` lines.
    fn parse(text: &str) -> AdapterReport {
        let mut report = AdapterReport::default();
        for line in text.lines() {
            let Some((key, value)) = line.split_once('=') else {
                continue;
            };
            match key {
                "adapter" => report.name = value.to_string(),
                "features" => {
                    report.features = value
                        .split(',')
                        .filter(|f| !f.is_empty())
                        .map(str::to_string)
                        .collect()
                }
                "flushes_subnormal_inputs" => report.flushes_subnormal_inputs = value == "true",
                "flushes_subnormal_results" => report.flushes_subnormal_results = value == "true",
                "user_agent" => report.user_agent = value.to_string(),
                _ => {}
            }
        }
        report
    }
}

/// The Chromium to start: `$WGPU_ACTIVATIONS_CHROMIUM`, else the first of
/// `chromium`, `chromium-browser`, `google-chrome`, `google-chrome-stable`
/// on `$PATH`.
pub fn find_chromium() -> Result<PathBuf, Error> {
    if let Some(path) = std::env::var_os("WGPU_ACTIVATIONS_CHROMIUM") {
        let path = PathBuf::from(path);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(browser_error(format!(
                "WGPU_ACTIVATIONS_CHROMIUM={} is not a file",
                path.display()
            )))
        };
    }
    let names = [
        "chromium",
        "chromium-browser",
        "google-chrome",
        "google-chrome-stable",
    ];
    let dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    names
        .iter()
        .flat_map(|name| dirs.iter().map(move |dir| dir.join(name)))
        .find(|path| path.is_file())
        .ok_or_else(|| {
            browser_error(
                "no Chromium found (looked for chromium, chromium-browser, google-chrome on \
                 $PATH). Install it: `apt-get install -y chromium` (Debian, Ubuntu), or set \
                 WGPU_ACTIVATIONS_CHROMIUM to a Chromium or Chrome executable"
                    .into(),
            )
        })
}

fn browser_error(detail: String) -> Error {
    Error::Browser { detail }
}

impl Browser {
    /// Starts a headless Chromium ([`find_chromium`]) with WebGPU enabled
    /// and waits until its page has a device. Fails with a clear
    /// [`Error::Browser`] when there is no Chromium, when it gives no WebGPU
    /// adapter, or when it does not answer within [`LAUNCH_TIMEOUT`].
    pub fn launch() -> Result<Browser, Error> {
        let executable = find_chromium()?;
        let listener = TcpListener::bind(("127.0.0.1", 0))
            .map_err(|e| browser_error(format!("cannot listen on 127.0.0.1: {e}")))?;
        let port = listener
            .local_addr()
            .map_err(|e| browser_error(e.to_string()))?
            .port();
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            changed: Condvar::new(),
            served: Mutex::new(Served::default()),
            modules: Mutex::new(Vec::new()),
            family_modules: Mutex::new(Vec::new()),
        });
        {
            let shared = Arc::clone(&shared);
            std::thread::Builder::new()
                .name("wgpu-activations-browser-server".into())
                .spawn(move || serve(listener, shared))
                .map_err(|e| browser_error(format!("cannot start the server thread: {e}")))?;
        }
        let profile = std::env::temp_dir().join(format!(
            "wgpu-activations-chromium-{}-{port}",
            std::process::id()
        ));
        std::fs::create_dir_all(&profile)
            .map_err(|e| browser_error(format!("cannot create {}: {e}", profile.display())))?;
        let log_path = profile.join("chromium.log");
        let log = File::create(&log_path)
            .map_err(|e| browser_error(format!("cannot create {}: {e}", log_path.display())))?;
        let log_err = log.try_clone().map_err(|e| browser_error(e.to_string()))?;
        let mut command = Command::new(&executable);
        command
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--enable-unsafe-webgpu",
                "--disable-quic",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-dev-shm-usage",
                "--disable-background-timer-throttling",
                "--disable-renderer-backgrounding",
                "--disable-breakpad",
                "--disable-crash-reporter",
            ])
            .arg(format!(
                "--user-data-dir={}",
                profile.join("profile").display()
            ))
            .arg(format!("http://127.0.0.1:{port}/"))
            .stdin(Stdio::null())
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(log_err));
        #[cfg(unix)]
        {
            use std::os::unix::process::CommandExt;
            // Its own process group, so that drop ends every child process.
            command.process_group(0);
        }
        let child = command
            .spawn()
            .map_err(|e| browser_error(format!("cannot start {}: {e}", executable.display())))?;
        let mut browser = Browser {
            shared,
            child: Mutex::new(child),
            profile,
            log_path,
            adapter: AdapterReport::default(),
            module_ids: Mutex::new(HashMap::new()),
            precision: None,
            family_ids: Mutex::new(HashMap::new()),
            next_job: Mutex::new(0),
            job_timeout: DEFAULT_JOB_TIMEOUT,
            executable,
            port,
        };
        let hello = browser.wait_for(LAUNCH_TIMEOUT, "the page to open a WebGPU device", |s| {
            s.hello.clone()
        })?;
        let hello = hello.map_err(|e| {
            browser_error(format!(
                "{} gave no WebGPU device: {e}",
                browser.executable.display()
            ))
        })?;
        browser.adapter = AdapterReport::parse(&hello);
        Ok(browser)
    }

    /// The WebGPU adapter as the page described it: vendor, architecture,
    /// device and description that it reported, e.g. `"google swiftshader"`.
    pub fn adapter(&self) -> &str {
        &self.adapter.name
    }

    /// The adapter's optional WebGPU features (`"shader-f16"`, ...).
    pub fn features(&self) -> &[String] {
        &self.adapter.features
    }

    /// The browser's user agent (its name and version).
    pub fn user_agent(&self) -> &str {
        &self.adapter.user_agent
    }

    /// Whether the device flushed a subnormal operand (`1e-40 * 1`) and a
    /// subnormal result (`2^-120 * 2^-10`) to zero in a probe the page ran
    /// at launch.
    pub fn flushes_subnormals(&self) -> (bool, bool) {
        (
            self.adapter.flushes_subnormal_inputs,
            self.adapter.flushes_subnormal_results,
        )
    }

    /// How to judge this device's results ([`crate::accuracy::judge_on`]):
    /// [`Subnormals::MayFlush`] where the probe saw subnormal operands
    /// flushed, [`Subnormals::Kept`] otherwise.
    pub fn subnormals(&self) -> Subnormals {
        if self.adapter.flushes_subnormal_inputs {
            Subnormals::MayFlush
        } else {
            Subnormals::Kept
        }
    }

    /// The Chromium executable in use.
    pub fn executable(&self) -> &Path {
        &self.executable
    }

    /// How long one job may take before [`Browser::run`] gives up with an
    /// error (default [`DEFAULT_JOB_TIMEOUT`]).
    pub fn set_job_timeout(&mut self, timeout: Duration) {
        self.job_timeout = timeout;
    }

    /// `act` in `mode` over `x` (and `grad_output` for [`Mode::Backward`],
    /// else `&[]`) in the browser's WebGPU, through the same modules and
    /// dispatches a JavaScript user of [`wgsl::portable_module`] would use:
    /// f32, or f16 / bf16 data on u32 words ([`wgsl::portable_module_typed`],
    /// no optional WebGPU feature), computed in f32 and rounded once.
    /// Parameters and lengths are checked as on wgpu; calls longer than
    /// [`JOB_LEN`] are split. Any compilation message of type error, WebGPU
    /// validation error, device loss or timeout is an [`Error::Browser`]
    /// with the browser's message.
    pub fn run<T: Element>(
        &self,
        act: Activation,
        mode: Mode,
        x: &[T],
        grad_output: &[T],
    ) -> Result<Vec<T>, Error> {
        self.run_as(act, mode, x, grad_output, false)
    }

    /// [`Browser::run`] through the `_in_place` entry points: the output
    /// buffer starts as `x` (forward, derivative) or `grad_output`
    /// (backward) and is overwritten with the result.
    pub fn run_in_place<T: Element>(
        &self,
        act: Activation,
        mode: Mode,
        x: &[T],
        grad_output: &[T],
    ) -> Result<Vec<T>, Error> {
        self.run_as(act, mode, x, grad_output, true)
    }

    /// Runs every later op at `precision` (for every dtype) instead of each
    /// dtype's default, [`Precision::default_for`], as
    /// [`crate::Context::with_precision`] does.
    pub fn set_precision(&mut self, precision: Precision) {
        self.precision = Some(precision);
    }

    /// The tier this browser runs data of `dtype` at.
    pub fn precision_for(&self, dtype: Dtype) -> Precision {
        self.precision
            .unwrap_or_else(|| Precision::default_for(dtype))
    }

    /// Compilation messages Chromium gave that were not errors (warnings,
    /// info), each with its module and line.
    pub fn compilation_notes(&self) -> Vec<String> {
        self.shared.lock().notes.clone()
    }

    fn run_as<T: Element>(
        &self,
        act: Activation,
        mode: Mode,
        x: &[T],
        grad_output: &[T],
        in_place: bool,
    ) -> Result<Vec<T>, Error> {
        act.validate()?;
        match mode {
            Mode::Backward if grad_output.len() != x.len() => {
                return Err(Error::LengthMismatch {
                    what: "grad_output",
                    expected: x.len(),
                    actual: grad_output.len(),
                });
            }
            Mode::Forward | Mode::Derivative if !grad_output.is_empty() => {
                return Err(Error::UnexpectedGradOutput { mode });
            }
            _ => {}
        }
        let storage = match T::DTYPE {
            Dtype::F32 => Storage::F32,
            Dtype::F16 => Storage::F16Packed,
            Dtype::Bf16 => Storage::Bf16,
        };
        let module = self.module_id(&act, storage, self.precision_for(T::DTYPE));
        let mut params = [0u32; 4];
        for (slot, value) in params.iter_mut().zip(act.param_values()) {
            *slot = value.to_bits();
        }
        let mut out = Vec::with_capacity(x.len());
        for (i, chunk) in x.chunks(JOB_LEN).enumerate() {
            let grad = if mode == Mode::Backward {
                &grad_output[i * JOB_LEN..i * JOB_LEN + chunk.len()]
            } else {
                &[]
            };
            let job = (module, mode, in_place, params);
            out.extend(self.run_job(job, chunk, grad, &act)?);
        }
        Ok(out)
    }

    /// The index of `act`'s modules, composing them on first use.
    fn module_id(&self, act: &Activation, storage: Storage, precision: Precision) -> usize {
        let mut ids = self.module_ids.lock().unwrap_or_else(|e| e.into_inner());
        *ids.entry((act.name(), storage, precision))
            .or_insert_with(|| {
                let mut modules = self
                    .shared
                    .modules
                    .lock()
                    .unwrap_or_else(|e| e.into_inner());
                modules.push(wgsl::portable_module_with(act, storage, precision));
                modules.len() - 1
            })
    }

    fn run_job<T: Element>(
        &self,
        (module, mode, in_place, param_bits): (usize, Mode, bool, [u32; 4]),
        x: &[T],
        grad_output: &[T],
        act: &Activation,
    ) -> Result<Vec<T>, Error> {
        // Elements per body and tail storage element, bytes per element.
        let (body_lanes, tail_lanes) = if T::DTYPE == Dtype::F32 {
            (4, 1)
        } else {
            (8, 2)
        };
        let header = format!(
            r#""module":{module},"entry":"{}{}","in_place":{in_place},"len":{},"body_lanes":{body_lanes},"tail_lanes":{tail_lanes},"elem_bytes":{},"param_bits":[{},{},{},{}]"#,
            mode.entry_point(),
            if in_place { "_in_place" } else { "" },
            x.len(),
            T::DTYPE.size(),
            param_bits[0],
            param_bits[1],
            param_bits[2],
            param_bits[3]
        );
        let place = if in_place { " in place" } else { "" };
        let what = format!("{act} {mode:?}{place} on {} elements", x.len());
        // Whole words: the page writes buffers in multiples of 4 bytes.
        let words = |data: &[T]| {
            let mut bytes = bytemuck::cast_slice::<T, u8>(data).to_vec();
            bytes.resize(bytes.len().next_multiple_of(4), 0);
            bytes
        };
        let n = x.len();
        let (x, grad_output) = (
            words(x),
            if grad_output.is_empty() {
                Vec::new()
            } else {
                words(grad_output)
            },
        );
        let bytes = self.exchange(header, x, grad_output, &what)?;
        let out: Vec<T> = bytes
            .chunks_exact(T::DTYPE.size())
            .map(bytemuck::pod_read_unaligned)
            .collect();
        if out.len() != n {
            return Err(browser_error(format!(
                "{what}: the page returned {} values, expected {n}",
                out.len()
            )));
        }
        Ok(out)
    }

    /// Hands one job to the page and waits for its result: `header` is the
    /// job's JSON fields (the id is added), `x` and `grad_output` its data.
    fn exchange(
        &self,
        header: String,
        x: Vec<u8>,
        grad_output: Vec<u8>,
        what: &str,
    ) -> Result<Vec<u8>, Error> {
        // One job at a time: the page runs them in turn anyway.
        let mut next_job = self.next_job.lock().unwrap_or_else(|e| e.into_inner());
        *next_job += 1;
        let id = *next_job;
        {
            let mut state = self.shared.lock();
            state.pending = Some(Job {
                id,
                header: format!(r#"{{"id":{id},{header}}}"#),
                x: Arc::new(x),
                grad_output: Arc::new(grad_output),
            });
            self.shared.changed.notify_all();
        }
        let result = self.wait_for(self.job_timeout, what, |s| s.results.remove(&id));
        if result.is_err() {
            // Do not leave a job the page might still pick up.
            self.shared.lock().pending = None;
        }
        result?.map_err(|e| browser_error(format!("{what}: {e}")))
    }

    /// Runs one family dispatch (`plan`) in the page: `inputs` uploaded to
    /// their bindings, `outputs` of the given lengths read back.
    fn run_plan<const N: usize>(
        &self,
        plan: &Plan,
        inputs: &[(u32, &[f32])],
        outputs: &[(u32, usize); N],
    ) -> Result<[Vec<f32>; N], Error> {
        let module = {
            let mut ids = self.family_ids.lock().unwrap_or_else(|e| e.into_inner());
            let next = ids.len();
            let id = *ids.entry(plan.module.clone()).or_insert(next);
            if id == next {
                let mut sources = self
                    .shared
                    .family_modules
                    .lock()
                    .unwrap_or_else(|e| e.into_inner());
                sources.push(module_source(&plan.module));
            }
            id
        };
        let data: Vec<u32> = plan
            .data
            .counts
            .iter()
            .copied()
            .chain(plan.data.param.iter().map(|p| p.to_bits()))
            .collect();
        let list = |v: &[(u32, usize)]| {
            v.iter()
                .map(|(b, n)| format!("[{b},{n}]"))
                .collect::<Vec<_>>()
                .join(",")
        };
        let input_lens: Vec<(u32, usize)> = inputs.iter().map(|(b, x)| (*b, x.len())).collect();
        let header = format!(
            r#""family":true,"module":{module},"entry":"{}","data":[{}],"groups":{},"grid":{},"inputs":[{}],"outputs":[{}]"#,
            plan.entry,
            data.iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(","),
            plan.groups,
            plan.grid
                .map_or("null".to_string(), |[x, y, z]| format!("[{x},{y},{z}]")),
            list(&input_lens),
            list(outputs)
        );
        let mut x = Vec::new();
        for (_, data) in inputs {
            x.extend_from_slice(bytemuck::cast_slice(data));
        }
        let what = format!("{} {}", plan.module, plan.entry);
        let flat: Vec<f32> = self
            .exchange(header, x, Vec::new(), &what)?
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        let expected: usize = outputs.iter().map(|(_, n)| n).sum();
        if flat.len() != expected {
            return Err(browser_error(format!(
                "{what}: the page returned {} values, expected {expected}",
                flat.len()
            )));
        }
        let mut rest = flat.as_slice();
        Ok(std::array::from_fn(|i| {
            let (head, tail) = rest.split_at(outputs[i].1);
            rest = tail;
            head.to_vec()
        }))
    }

    /// Waits until `ready` finds what it looks for in the state, a fault is
    /// reported, Chromium exits, or `timeout` passes.
    fn wait_for<T>(
        &self,
        timeout: Duration,
        what: &str,
        mut ready: impl FnMut(&mut State) -> Option<T>,
    ) -> Result<T, Error> {
        let deadline = Instant::now() + timeout;
        let mut state = self.shared.lock();
        loop {
            if !state.faults.is_empty() {
                return Err(browser_error(format!(
                    "WebGPU in Chromium reported: {}",
                    state.faults.join("; ")
                )));
            }
            if let Some(found) = ready(&mut state) {
                return Ok(found);
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(browser_error(format!(
                    "timed out after {timeout:?} waiting for {what}{}",
                    self.log_tail()
                )));
            }
            let wait = (deadline - now).min(Duration::from_millis(500));
            state = self
                .shared
                .changed
                .wait_timeout(state, wait)
                .unwrap_or_else(|e| e.into_inner())
                .0;
            // Chromium gone: no answer will come.
            if self.exited() {
                if let Some(found) = ready(&mut state) {
                    return Ok(found);
                }
                return Err(browser_error(format!(
                    "Chromium exited while waiting for {what}{}",
                    self.log_tail()
                )));
            }
        }
    }

    fn exited(&self) -> bool {
        let mut child = self.child.lock().unwrap_or_else(|e| e.into_inner());
        matches!(child.try_wait(), Ok(Some(_)))
    }

    /// The last lines of Chromium's own log that are not D-Bus noise, for
    /// error messages.
    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log_path).unwrap_or_default();
        let lines: Vec<&str> = text
            .lines()
            .filter(|l| !l.contains("dbus") && !l.trim().is_empty())
            .collect();
        let tail = &lines[lines.len().saturating_sub(8)..];
        if tail.is_empty() {
            String::new()
        } else {
            format!("; Chromium's log ends:\n  {}", tail.join("\n  "))
        }
    }
}

/// PReLU in the browser: `(y, dx, d_slopes)`.
pub type PreluResults = (Vec<f32>, Vec<f32>, Vec<f32>);

/// The kernel families in the browser: the same plans (module, entry point,
/// dispatch data, workgroups) as on wgpu, with the same checks first.
impl Browser {
    /// [`crate::Context::gated_forward`] in the browser.
    pub fn gated_forward(
        &self,
        kind: Gated,
        value: &[f32],
        gate: &[f32],
    ) -> Result<Vec<f32>, Error> {
        Error::check_len("gate", value.len(), gate.len())?;
        if value.is_empty() {
            return Ok(Vec::new());
        }
        let plan = gated::plan(
            kind,
            self.precision_for(Dtype::F32),
            "forward",
            value.len(),
            0,
        );
        let [out] = self.run_plan(&plan, &[(1, value), (2, gate)], &[(4, value.len())])?;
        Ok(out)
    }

    /// [`crate::Context::gated_backward`] in the browser.
    pub fn gated_backward(
        &self,
        kind: Gated,
        value: &[f32],
        gate: &[f32],
        grad_output: &[f32],
    ) -> Result<(Vec<f32>, Vec<f32>), Error> {
        let n = value.len();
        Error::check_len("gate", n, gate.len())?;
        Error::check_len("grad_output", n, grad_output.len())?;
        if n == 0 {
            return Ok((Vec::new(), Vec::new()));
        }
        let plan = gated::plan(kind, self.precision_for(Dtype::F32), "backward", n, 0);
        let inputs = [(1, value), (2, gate), (3, grad_output)];
        let [d_value, d_gate] = self.run_plan(&plan, &inputs, &[(4, n), (5, n)])?;
        Ok((d_value, d_gate))
    }

    /// [`crate::Context::gated_forward_packed`] in the browser.
    pub fn gated_forward_packed(
        &self,
        kind: Gated,
        x: &[f32],
        row_len: usize,
    ) -> Result<Vec<f32>, Error> {
        let half = packed_half(x.len(), row_len)?;
        if x.is_empty() {
            return Ok(Vec::new());
        }
        let precision = self.precision_for(Dtype::F32);
        let plan = gated::plan(kind, precision, "forward_packed", x.len() / 2, half);
        let [out] = self.run_plan(&plan, &[(1, x)], &[(4, x.len() / 2)])?;
        Ok(out)
    }

    /// [`crate::Context::gated_backward_packed`] in the browser.
    pub fn gated_backward_packed(
        &self,
        kind: Gated,
        x: &[f32],
        row_len: usize,
        grad_output: &[f32],
    ) -> Result<Vec<f32>, Error> {
        let half = packed_half(x.len(), row_len)?;
        Error::check_len("grad_output", x.len() / 2, grad_output.len())?;
        if x.is_empty() {
            return Ok(Vec::new());
        }
        let precision = self.precision_for(Dtype::F32);
        let plan = gated::plan(kind, precision, "backward_packed", x.len() / 2, half);
        let [out] = self.run_plan(&plan, &[(1, x), (3, grad_output)], &[(4, x.len())])?;
        Ok(out)
    }

    /// `op` over the rows of `cols` columns in the browser (rows of up to
    /// `short_row_limit` columns one invocation per row, as
    /// [`crate::RowKernels::with_short_row_limit`]).
    pub fn row_forward(
        &self,
        op: RowOp,
        x: &[f32],
        cols: usize,
        short_row_limit: usize,
    ) -> Result<Vec<f32>, Error> {
        let rows = rows_of(x.len(), cols)?;
        if rows == 0 {
            return Ok(Vec::new());
        }
        let precision = self.precision_for(Dtype::F32);
        let plan = rowwise::plan(op, precision, false, rows, cols, short_row_limit, false);
        let [out] = self.run_plan(&plan, &[(1, x)], &[(3, x.len())])?;
        Ok(out)
    }

    /// `op`'s backward from its output `y` in the browser.
    pub fn row_backward(
        &self,
        op: RowOp,
        y: &[f32],
        grad_output: &[f32],
        cols: usize,
        short_row_limit: usize,
    ) -> Result<Vec<f32>, Error> {
        let rows = rows_of(y.len(), cols)?;
        Error::check_len("grad_output", y.len(), grad_output.len())?;
        if rows == 0 {
            return Ok(Vec::new());
        }
        let precision = self.precision_for(Dtype::F32);
        let plan = rowwise::plan(op, precision, true, rows, cols, short_row_limit, false);
        let [out] = self.run_plan(&plan, &[(1, y), (2, grad_output)], &[(3, y.len())])?;
        Ok(out)
    }

    /// [`crate::Context::prelu_backward`] in the browser (with the forward:
    /// `(y, dx, d_slopes)`).
    pub fn prelu(
        &self,
        x: &[f32],
        slopes: &[f32],
        grad_output: &[f32],
        shape: [usize; 3],
    ) -> Result<PreluResults, Error> {
        let (channels, inner) = prelu_layout(x.len(), slopes.len(), shape)?;
        Error::check_len("grad_output", x.len(), grad_output.len())?;
        if x.is_empty() {
            return Ok((Vec::new(), Vec::new(), vec![0.0; slopes.len()]));
        }
        let n = x.len();
        let plan = |entry| prelu::prelu_plan(entry, n, channels, inner);
        let [y] = self.run_plan(&plan("prelu_forward"), &[(1, x), (2, slopes)], &[(4, n)])?;
        let inputs = [(1, x), (2, slopes), (3, grad_output)];
        let [dx] = self.run_plan(&plan("prelu_backward_input"), &inputs, &[(4, n)])?;
        let inputs = [(1, x), (3, grad_output)];
        let [ds] = self.run_plan(
            &plan("prelu_backward_slopes"),
            &inputs,
            &[(4, slopes.len())],
        )?;
        Ok((y, dx, ds))
    }

    /// [`crate::Context::rrelu_train`] in the browser: `(y, noise)`.
    pub fn rrelu_train(
        &self,
        x: &[f32],
        lower: f32,
        upper: f32,
        seed: u64,
    ) -> Result<(Vec<f32>, Vec<f32>), Error> {
        check_rrelu_train(x.len(), lower, upper)?;
        if x.is_empty() {
            return Ok((Vec::new(), Vec::new()));
        }
        let plan = prelu::rrelu_plan(x.len(), lower, upper, seed);
        let [y, noise] = self.run_plan(&plan, &[(1, x)], &[(4, x.len()), (5, x.len())])?;
        Ok((y, noise))
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        {
            let mut state = self.shared.lock();
            state.stop = true;
            self.shared.changed.notify_all();
        }
        let child = self.child.get_mut().unwrap_or_else(|e| e.into_inner());
        #[cfg(target_os = "linux")]
        // SAFETY: signals the process group Chromium was started in (its
        // own, see `process_group(0)`), which holds only its processes.
        unsafe {
            libc::kill(-(child.id() as i32), libc::SIGKILL);
        }
        let _ = child.kill();
        let _ = child.wait();
        // Wake the accept loop so that the server thread sees `stop` and ends.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// Accepts connections until the browser is dropped (its drop connects once
/// more to wake this loop up).
fn serve(listener: TcpListener, shared: Arc<Shared>) {
    for stream in listener.incoming() {
        if shared.lock().stop {
            break;
        }
        let Ok(stream) = stream else { continue };
        let for_request = Arc::clone(&shared);
        let _ = std::thread::Builder::new()
            .name("wgpu-activations-browser-request".into())
            .spawn(move || {
                let _ = handle(stream, &for_request);
            });
    }
}

/// One HTTP/1.1 request, answered and closed.
fn handle(stream: TcpStream, shared: &Shared) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    let mut words = request_line.split_whitespace();
    let method = words.next().unwrap_or("").to_string();
    let path = words.next().unwrap_or("").to_string();
    let mut content_length = 0usize;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 || header == "\r\n" || header == "\n" {
            break;
        }
        if let Some((name, value)) = header.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            content_length = value.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0u8; content_length];
    reader.read_exact(&mut body)?;
    let (status, content_type, reply) = route(shared, &method, &path, body);
    let mut stream = stream;
    write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
         Cache-Control: no-store\r\nConnection: close\r\n\r\n",
        reply.len()
    )?;
    stream.write_all(&reply)?;
    stream.flush()
}

type Reply = (&'static str, &'static str, Vec<u8>);

fn route(shared: &Shared, method: &str, path: &str, body: Vec<u8>) -> Reply {
    const OK: &str = "200 OK";
    const TEXT: &str = "text/plain; charset=utf-8";
    const BYTES: &str = "application/octet-stream";
    let not_found: Reply = ("404 Not Found", TEXT, b"not found".to_vec());
    let text = |body: Vec<u8>| String::from_utf8_lossy(&body).into_owned();
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match (method, parts.as_slice()) {
        ("GET", [""]) => (
            OK,
            "text/html; charset=utf-8",
            PAGE_HTML.as_bytes().to_vec(),
        ),
        ("POST", ["hello"]) => {
            let mut state = shared.lock();
            state.hello = Some(Ok(text(body)));
            shared.changed.notify_all();
            (OK, TEXT, Vec::new())
        }
        ("POST", ["hello-error"]) => {
            let mut state = shared.lock();
            state.hello = Some(Err(text(body)));
            shared.changed.notify_all();
            (OK, TEXT, Vec::new())
        }
        ("POST", ["note"]) => {
            shared.lock().notes.push(text(body));
            (OK, TEXT, Vec::new())
        }
        ("POST", ["fault"]) => {
            let mut state = shared.lock();
            state.faults.push(text(body));
            shared.changed.notify_all();
            (OK, TEXT, Vec::new())
        }
        ("GET", ["next"]) => next_job(shared),
        ("GET", ["family", index]) => {
            let modules = shared
                .family_modules
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            match index.parse::<usize>().ok().and_then(|i| modules.get(i)) {
                Some(source) => (OK, TEXT, source.clone().into_bytes()),
                None => not_found,
            }
        }
        ("GET", ["module", index, which]) => {
            let modules = shared.modules.lock().unwrap_or_else(|e| e.into_inner());
            let module = index.parse::<usize>().ok().and_then(|i| modules.get(i));
            match (module, *which) {
                (Some(m), "body") => (OK, TEXT, m.body.clone().into_bytes()),
                (Some(m), "tail") => (OK, TEXT, m.tail.clone().into_bytes()),
                _ => not_found,
            }
        }
        ("GET", ["job", id, which]) => {
            let served = shared.served.lock().unwrap_or_else(|e| e.into_inner());
            if id.parse::<u64>().ok() != Some(served.job) {
                return not_found;
            }
            match *which {
                "x" => (OK, BYTES, served.x.to_vec()),
                "dy" => (OK, BYTES, served.grad_output.to_vec()),
                _ => not_found,
            }
        }
        ("POST", ["job", id, outcome @ ("result" | "error")]) => {
            let Ok(id) = id.parse::<u64>() else {
                return not_found;
            };
            let result = if *outcome == "result" {
                Ok(body)
            } else {
                Err(text(body))
            };
            let mut state = shared.lock();
            state.results.insert(id, result);
            shared.changed.notify_all();
            (OK, TEXT, Vec::new())
        }
        _ => not_found,
    }
}

/// `/next`: the next job as JSON, waiting up to 10 s for one (then
/// `{"wait":true}`, and the page asks again), or `{"stop":true}`.
fn next_job(shared: &Shared) -> Reply {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut state = shared.lock();
    loop {
        if state.stop {
            return ("200 OK", "application/json", br#"{"stop":true}"#.to_vec());
        }
        if let Some(job) = state.pending.take() {
            drop(state);
            let mut served = shared.served.lock().unwrap_or_else(|e| e.into_inner());
            served.job = job.id;
            served.x = Arc::clone(&job.x);
            served.grad_output = Arc::clone(&job.grad_output);
            let json = job.header;
            return ("200 OK", "application/json", json.into_bytes());
        }
        let now = Instant::now();
        if now >= deadline {
            return ("200 OK", "application/json", br#"{"wait":true}"#.to_vec());
        }
        state = shared
            .changed
            .wait_timeout(state, deadline - now)
            .unwrap_or_else(|e| e.into_inner())
            .0;
    }
}
