//! Creating device buffers from host data and reading results back.

use wgpu::util::DeviceExt;

use crate::context::Gpu;
use crate::error::{GpuError, Result};

impl Gpu {
    /// A read-only storage buffer holding `bytes` (padded to whole words,
    /// as storage bindings require).
    pub(crate) fn storage_from_bytes(&self, label: &str, bytes: &[u8]) -> wgpu::Buffer {
        let mut padded;
        let contents = if bytes.len().is_multiple_of(4) && !bytes.is_empty() {
            bytes
        } else {
            padded = bytes.to_vec();
            padded.resize(bytes.len().next_multiple_of(4).max(4), 0);
            &padded
        };
        self.device
            .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some(label),
                contents,
                usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
            })
    }

    pub(crate) fn storage_from_f32(&self, label: &str, values: &[f32]) -> wgpu::Buffer {
        self.storage_from_bytes(label, bytemuck::cast_slice(values))
    }

    pub(crate) fn storage_from_u32(&self, label: &str, values: &[u32]) -> wgpu::Buffer {
        self.storage_from_bytes(label, bytemuck::cast_slice(values))
    }

    /// A zeroed read-write storage buffer of `floats` f32 values.
    pub(crate) fn scratch(&self, label: &str, floats: usize) -> wgpu::Buffer {
        self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size: (floats.max(1) * 4) as u64,
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
            mapped_at_creation: false,
        })
    }

    /// A uniform buffer of 32-bit words, padded to 16 bytes.
    pub(crate) fn uniform(&self, words: &[u32]) -> wgpu::Buffer {
        let mut padded = words.to_vec();
        padded.resize(words.len().next_multiple_of(4).max(4), 0);
        self.device
            .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some("params"),
                contents: bytemuck::cast_slice(&padded),
                usage: wgpu::BufferUsages::UNIFORM,
            })
    }

    /// Submits `encoder` followed by a copy of the first `floats` values of
    /// `source` into a mappable buffer; [`Readback::values`] waits for them.
    pub(crate) fn submit_with_readback(
        &self,
        mut encoder: wgpu::CommandEncoder,
        source: &wgpu::Buffer,
        floats: usize,
    ) -> Readback {
        let size = (floats.max(1) * 4) as u64;
        let staging = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("readback"),
            size,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        encoder.copy_buffer_to_buffer(source, 0, &staging, 0, size);
        self.queue.submit([encoder.finish()]);
        let (sender, receiver) = futures_channel::oneshot::channel();
        staging
            .slice(..)
            .map_async(wgpu::MapMode::Read, move |result| {
                let _ = sender.send(result);
            });
        Readback {
            staging,
            receiver,
            floats,
        }
    }
}

/// Results on their way back from the device.
pub(crate) struct Readback {
    staging: wgpu::Buffer,
    receiver: futures_channel::oneshot::Receiver<Result<(), wgpu::BufferAsyncError>>,
    floats: usize,
}

impl Readback {
    /// Waits for the values. Any error the device reported outside an error
    /// scope makes this an error: results of a failed submission are never
    /// returned.
    pub(crate) async fn values(self, gpu: &Gpu) -> Result<Vec<f32>> {
        gpu.wait()?;
        self.receiver
            .await
            .map_err(|_| GpuError::Compute("the read-back was cancelled".into()))?
            .map_err(|e| GpuError::Compute(format!("reading results back: {e}")))?;
        if let Some(failure) = gpu.failure() {
            return Err(GpuError::Compute(failure));
        }
        let values = {
            let view = self
                .staging
                .slice(..)
                .get_mapped_range()
                .map_err(|e| GpuError::Compute(format!("reading results back: {e}")))?;
            bytemuck::cast_slice::<u8, f32>(&view)[..self.floats].to_vec()
        };
        self.staging.unmap();
        Ok(values)
    }
}
