// device.cu: asks the CUDA runtime how many GPUs this process can use.
#include <dlfcn.h>
#include <stdio.h>
#include <cuda_runtime.h>

// number of usable GPUs; 0 with the runtime's reason in why[] when there
// is none (no driver, no device, driver too old for this runtime)
extern "C" int sift_cuda_device_count(char *why, size_t n)
{
	int count = 0;
	cudaError_t e = cudaGetDeviceCount(&count);
	if (e != cudaSuccess) {
		void *drv = NULL;
		// the runtime says "driver version is insufficient" also when
		// there is no driver at all: tell the two apart
		if (!why || !n)
			;
		else if (e == cudaErrorInsufficientDriver &&
			 !(drv = dlopen("libcuda.so.1", RTLD_LAZY | RTLD_NOLOAD)) &&
			 !(drv = dlopen("libcuda.so.1", RTLD_LAZY)))
			snprintf(why, n, "no NVIDIA driver: libcuda.so.1 not found");
		else
			snprintf(why, n, "%s", cudaGetErrorString(e));
		if (drv)
			dlclose(drv);
		cudaGetLastError();	// clear the sticky error
		return 0;
	}
	if (count == 0 && why && n)
		snprintf(why, n, "no CUDA-capable device is detected");
	return count;
}

// "NVIDIA H200, compute capability 9.0, 132 multiprocessors" into buf
extern "C" int sift_cuda_describe(int dev, char *buf, size_t n)
{
	cudaDeviceProp p;
	if (cudaGetDeviceProperties(&p, dev) != cudaSuccess) {
		cudaGetLastError();
		return -1;
	}
	snprintf(buf, n, "%s, compute capability %d.%d, %d multiprocessors",
		 p.name, p.major, p.minor, p.multiProcessorCount);
	return 0;
}
