//! The compute pipelines and one function per kernel that binds its buffers
//! and says how many workgroups it needs. Nothing here runs anything: the
//! encoder records the returned [`Dispatch`]es into one compute pass.

use crate::context::Gpu;
use crate::error::{GpuError, Result};

const Q4: &str = include_str!("kernels/q4.wgsl");
const EMBED: &str = include_str!("kernels/embed.wgsl");
const LAYER_NORM: &str = include_str!("kernels/layer_norm.wgsl");
const MATMUL_Q4: &str = include_str!("kernels/matmul_q4.wgsl");
const ATTENTION: &str = include_str!("kernels/attention.wgsl");
const POOL: &str = include_str!("kernels/pool.wgsl");

/// Threads per workgroup of the 1-D kernels (embed, layer norm, attention, pool).
const THREADS: u32 = 64;
/// Keys per attention tile (`KEYS` in attention.wgsl).
const ATTENTION_KEYS: u32 = 32;

/// One recorded kernel launch.
pub(crate) struct Dispatch<'k> {
    pipeline: &'k wgpu::ComputePipeline,
    bind_group: wgpu::BindGroup,
    groups: [u32; 3],
}

/// Compiled pipelines for one model shape on one device.
pub(crate) struct Kernels {
    embed: wgpu::ComputePipeline,
    layer_norm: wgpu::ComputePipeline,
    matmul: wgpu::ComputePipeline,
    attention: wgpu::ComputePipeline,
    pool: wgpu::ComputePipeline,
    /// Output tile side of the matrix product (64, or 32 on small devices).
    tile: u32,
    max_groups: u32,
}

impl Kernels {
    /// Compiles the kernels for `head_dim`, choosing the matrix tile the
    /// device's workgroup limits allow.
    pub async fn new(gpu: &Gpu, head_dim: usize) -> Result<Self> {
        let limits = gpu.limits();
        if head_dim == 0 || !head_dim.is_multiple_of(4) {
            return Err(GpuError::Limits(format!(
                "head size {head_dim} is not a multiple of 4"
            )));
        }
        let fits = |tile: u32| {
            let side = tile / 4;
            2 * 32 * tile * 4 <= limits.max_compute_workgroup_storage_size
                && side * side <= limits.max_compute_invocations_per_workgroup
                && side <= limits.max_compute_workgroup_size_x
                && side <= limits.max_compute_workgroup_size_y
        };
        let tile = [64, 32]
            .into_iter()
            .find(|&t| fits(t))
            .ok_or_else(|| GpuError::Limits(format!("{limits:?}")))?;
        let attention_bytes = 2 * ATTENTION_KEYS * head_dim as u32 * 4;
        if attention_bytes > limits.max_compute_workgroup_storage_size
            || THREADS > limits.max_compute_invocations_per_workgroup
            || THREADS > limits.max_compute_workgroup_size_x
        {
            return Err(GpuError::Limits(format!(
                "attention needs {attention_bytes} bytes of workgroup memory and {THREADS} threads"
            )));
        }
        let scope = gpu.device.push_error_scope(wgpu::ErrorFilter::Validation);
        let kernels = Self {
            embed: compile(gpu, "embed", &format!("{EMBED}\n{Q4}")),
            layer_norm: compile(gpu, "layer_norm", LAYER_NORM),
            matmul: compile(gpu, "matmul_q4", &matmul_source(tile)),
            attention: compile(
                gpu,
                "attention",
                &ATTENTION.replace("{{HEAD_DIM}}", &head_dim.to_string()),
            ),
            pool: compile(gpu, "pool", POOL),
            tile,
            max_groups: limits.max_compute_workgroups_per_dimension,
        };
        if let Some(e) = scope.pop().await {
            return Err(GpuError::Compute(format!("compiling the kernels: {e}")));
        }
        Ok(kernels)
    }

    pub fn tile(&self) -> u32 {
        self.tile
    }

    /// Workgroups for `count` independent units, folded into two dimensions
    /// when one is not enough.
    fn grid(&self, count: u64) -> Result<[u32; 3]> {
        let max = u64::from(self.max_groups);
        let x = count.clamp(1, max);
        let y = count.div_ceil(x);
        if y > max {
            return Err(GpuError::Limits(format!(
                "{count} workgroups in one dispatch"
            )));
        }
        Ok([x as u32, y as u32, 1])
    }

    fn bind<'k>(
        &'k self,
        gpu: &Gpu,
        pipeline: &'k wgpu::ComputePipeline,
        buffers: &[&wgpu::Buffer],
        groups: [u32; 3],
    ) -> Dispatch<'k> {
        let entries: Vec<wgpu::BindGroupEntry> = buffers
            .iter()
            .enumerate()
            .map(|(i, b)| wgpu::BindGroupEntry {
                binding: i as u32,
                resource: b.as_entire_binding(),
            })
            .collect();
        let bind_group = gpu.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: None,
            layout: &pipeline.get_bind_group_layout(0),
            entries: &entries,
        });
        Dispatch {
            pipeline,
            bind_group,
            groups,
        }
    }

    /// `x[t] = table[ids[t]] + position_type[t % len]` for the ids in
    /// `rows` (one part of the table); padding (`u32::MAX`) stays zero.
    #[allow(clippy::too_many_arguments)]
    pub fn embed<'k>(
        &'k self,
        gpu: &Gpu,
        ids: &wgpu::Buffer,
        table: &wgpu::Buffer,
        rows: std::ops::Range<u32>,
        position_type: &wgpu::Buffer,
        x: &wgpu::Buffer,
        (tokens, len, hidden): (u32, u32, u32),
    ) -> Result<Dispatch<'k>> {
        let params = gpu.uniform(&[tokens, hidden, len, rows.start, rows.end - rows.start]);
        let blocks = u64::from(tokens) * u64::from(hidden / 32);
        let groups = self.grid(blocks.div_ceil(u64::from(THREADS)))?;
        Ok(self.bind(
            gpu,
            &self.embed,
            &[&params, ids, table, position_type, x],
            groups,
        ))
    }

    /// `out = LayerNorm(x + residual) · gamma + beta` over rows of `hidden`.
    #[allow(clippy::too_many_arguments)]
    pub fn layer_norm<'k>(
        &'k self,
        gpu: &Gpu,
        x: &wgpu::Buffer,
        residual: Option<&wgpu::Buffer>,
        (gamma, beta): (&wgpu::Buffer, &wgpu::Buffer),
        out: &wgpu::Buffer,
        (rows, hidden): (u32, u32),
        eps: f32,
    ) -> Result<Dispatch<'k>> {
        let params = gpu.uniform(&[rows, hidden, eps.to_bits(), u32::from(residual.is_some())]);
        let groups = self.grid(u64::from(rows))?;
        let residual = residual.unwrap_or(x);
        Ok(self.bind(
            gpu,
            &self.layer_norm,
            &[&params, x, residual, gamma, beta, out],
            groups,
        ))
    }

    /// `y = a · wᵀ + bias`, then GELU if asked; `w` is Q4_0 `[n, k]`.
    #[allow(clippy::too_many_arguments)]
    pub fn matmul<'k>(
        &'k self,
        gpu: &Gpu,
        a: &wgpu::Buffer,
        w: &wgpu::Buffer,
        bias: &wgpu::Buffer,
        y: &wgpu::Buffer,
        (m, n, k): (u32, u32, u32),
        gelu: bool,
    ) -> Result<Dispatch<'k>> {
        let params = gpu.uniform(&[m, n, k, u32::from(gelu)]);
        let groups = [n.div_ceil(self.tile), m.div_ceil(self.tile), 1];
        if groups[0] > self.max_groups || groups[1] > self.max_groups {
            return Err(GpuError::Limits(format!(
                "a {m} × {n} product in one dispatch"
            )));
        }
        Ok(self.bind(gpu, &self.matmul, &[&params, a, w, bias, y], groups))
    }

    /// Self-attention of each window over its own tokens.
    #[allow(clippy::too_many_arguments)]
    pub fn attention<'k>(
        &'k self,
        gpu: &Gpu,
        qkv: &wgpu::Buffer,
        lengths: &wgpu::Buffer,
        ctx: &wgpu::Buffer,
        (windows, len, hidden, heads): (u32, u32, u32, u32),
        scale: f32,
    ) -> Result<Dispatch<'k>> {
        let params = gpu.uniform(&[len, hidden, heads, scale.to_bits()]);
        let groups = [len.div_ceil(THREADS), windows * heads, 1];
        if groups[1] > self.max_groups {
            return Err(GpuError::Limits(format!(
                "{windows} windows in one dispatch"
            )));
        }
        Ok(self.bind(gpu, &self.attention, &[&params, qkv, lengths, ctx], groups))
    }

    /// Mean of each window's rows over its own length.
    pub fn pool<'k>(
        &'k self,
        gpu: &Gpu,
        x: &wgpu::Buffer,
        lengths: &wgpu::Buffer,
        means: &wgpu::Buffer,
        (windows, len, hidden): (u32, u32, u32),
    ) -> Result<Dispatch<'k>> {
        let params = gpu.uniform(&[len, hidden]);
        let groups = [hidden.div_ceil(THREADS), windows, 1];
        if groups[1] > self.max_groups {
            return Err(GpuError::Limits(format!(
                "{windows} windows in one dispatch"
            )));
        }
        Ok(self.bind(gpu, &self.pool, &[&params, x, lengths, means], groups))
    }
}

fn compile(gpu: &Gpu, name: &str, source: &str) -> wgpu::ComputePipeline {
    let module = gpu
        .device
        .create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some(name),
            source: wgpu::ShaderSource::Wgsl(source.into()),
        });
    gpu.device
        .create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some(name),
            layout: None,
            module: &module,
            entry_point: Some("main"),
            compilation_options: Default::default(),
            cache: None,
        })
}

/// The matrix product for output tiles of `tile × tile`.
fn matmul_source(tile: u32) -> String {
    format!("{MATMUL_Q4}\n{Q4}").replace("{{TILE}}", &tile.to_string())
}

/// Records `dispatches` in order into one compute pass (WebGPU orders the
/// memory accesses of successive dispatches).
pub(crate) fn record(encoder: &mut wgpu::CommandEncoder, dispatches: &[Dispatch<'_>]) {
    let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
        label: Some("forward"),
        timestamp_writes: None,
    });
    for d in dispatches {
        pass.set_pipeline(d.pipeline);
        pass.set_bind_group(0, &d.bind_group, &[]);
        pass.dispatch_workgroups(d.groups[0], d.groups[1], d.groups[2]);
    }
}

#[cfg(test)]
mod tests;
