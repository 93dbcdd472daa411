//! Finding an adapter and opening a device on it, with errors captured
//! instead of wgpu's default (a panic, which in WASM kills the tab).

use std::sync::{Arc, Mutex};

use crate::error::{GpuError, Result};

/// Which adapters the caller accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdapterChoice {
    /// A hardware GPU only. What automatic selection uses: a software
    /// rasteriser (lavapipe, SwiftShader) is slower than xling's CPU path.
    Hardware,
    /// Any adapter, software ones included: for tests and profiling.
    Any,
}

/// What the encoder runs on, for reports ("which backend and why").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdapterSummary {
    /// The adapter's name, e.g. "llvmpipe (LLVM 15.0.6, 256 bits)".
    pub name: String,
    /// The API underneath: vulkan, metal, dx12 or webgpu.
    pub api: String,
    /// A CPU implementation of the GPU API (lavapipe, SwiftShader, WARP).
    pub software: bool,
}

impl std::fmt::Display for AdapterSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = if self.software { ", software" } else { "" };
        write!(f, "{} ({}{kind})", self.name, self.api)
    }
}

/// An open device and its queue.
pub struct Gpu {
    pub(crate) device: wgpu::Device,
    pub(crate) queue: wgpu::Queue,
    summary: AdapterSummary,
    /// Errors no error scope caught, and a lost device: reported by the next
    /// computation instead of panicking.
    failure: Arc<Mutex<Option<String>>>,
}

impl Gpu {
    /// Opens the best adapter `choice` allows, with the highest limits it has
    /// (large batches need large storage bindings).
    pub async fn new(choice: AdapterChoice) -> Result<Self> {
        // wgpu panics when asked for an instance where WebGPU cannot be
        // reached (Node, a service worker): look first.
        #[cfg(target_arch = "wasm32")]
        if !wgpu::util::is_browser_webgpu_supported().await {
            return Err(GpuError::NoAdapter(
                "WebGPU is not available here (no navigator.gpu, or no adapter)".into(),
            ));
        }
        let instance =
            wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
        let adapter = instance
            .request_adapter(&wgpu::RequestAdapterOptions {
                power_preference: wgpu::PowerPreference::HighPerformance,
                ..Default::default()
            })
            .await
            .map_err(|e| GpuError::NoAdapter(e.to_string()))?;
        let info = adapter.get_info();
        let software = info.device_type == wgpu::DeviceType::Cpu;
        let summary = AdapterSummary {
            // Browsers may withhold the name (fingerprinting).
            name: match (info.name.is_empty(), software) {
                (false, _) => info.name.clone(),
                (true, _) => "unnamed".into(),
            },
            api: info.backend.to_str().into(),
            software,
        };
        if summary.software && choice == AdapterChoice::Hardware {
            return Err(GpuError::NoAdapter(format!(
                "the only one is a software renderer, {summary}, slower than the CPU path"
            )));
        }
        let (device, queue) = adapter
            .request_device(&wgpu::DeviceDescriptor {
                label: Some("xling"),
                required_features: wgpu::Features::empty(),
                required_limits: adapter.limits(),
                ..Default::default()
            })
            .await
            .map_err(|e| GpuError::Device(e.to_string()))?;
        let failure = Arc::new(Mutex::new(None));
        let on_error = Arc::clone(&failure);
        device.on_uncaptured_error(Arc::new(move |e: wgpu::Error| {
            record(&on_error, e.to_string());
        }));
        let on_lost = Arc::clone(&failure);
        device.set_device_lost_callback(move |reason, message| {
            record(&on_lost, format!("device lost ({reason:?}): {message}"));
        });
        Ok(Self {
            device,
            queue,
            summary,
            failure,
        })
    }

    /// Which adapter this is, for reports and logs.
    pub fn summary(&self) -> &AdapterSummary {
        &self.summary
    }

    /// The device's limits (the adapter's own, requested in full), which size
    /// the kernels' workgroups and the largest pass.
    pub fn limits(&self) -> wgpu::Limits {
        self.device.limits()
    }

    /// The largest buffer one storage binding may hold.
    pub fn max_binding_bytes(&self) -> u64 {
        let limits = self.device.limits();
        limits
            .max_storage_buffer_binding_size
            .min(limits.max_buffer_size)
    }

    /// The first error reported outside an error scope, if any: after one,
    /// the device's results cannot be trusted.
    pub(crate) fn failure(&self) -> Option<String> {
        self.failure.lock().ok().and_then(|f| f.clone())
    }

    /// Lets the device finish submitted work and run its callbacks. Natively
    /// this blocks; in a browser the event loop does it.
    pub(crate) fn wait(&self) -> Result<()> {
        #[cfg(not(target_arch = "wasm32"))]
        self.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| GpuError::Compute(e.to_string()))?;
        Ok(())
    }
}

impl Gpu {
    /// Marks the device as failed, as a lost device would (for tests).
    #[cfg(test)]
    pub(crate) fn record_failure(&self, message: String) {
        record(&self.failure, message);
    }
}

fn record(slot: &Mutex<Option<String>>, message: String) {
    if let Ok(mut slot) = slot.lock() {
        slot.get_or_insert(message);
    }
}
