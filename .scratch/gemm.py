import torch, time
torch.set_num_threads(1)
for (m,k,n,ta,tb) in [(8192,128,128,0,0),(128,8192,128,1,0),(8192,128,256,0,0),(8192,256,128,0,0),(8192,128,128,0,1)]:
    a = torch.randn(k,m) if ta else torch.randn(m,k)
    b = torch.randn(n,k) if tb else torch.randn(k,n)
    A = a.t() if ta else a; B = b.t() if tb else b
    for _ in range(3): torch.mm(A,B)
    t=time.perf_counter(); R=20
    for _ in range(R): torch.mm(A,B)
    dt=(time.perf_counter()-t)/R
    print(m,k,n,ta,tb, f"{dt*1e3:.2f} ms {2*m*n*k/dt/1e9:.0f} GFLOP/s")
a=torch.randn(256,64,64); b=torch.randn(256,64,64)
for _ in range(3): torch.bmm(a,b.transpose(1,2))
t=time.perf_counter()
for _ in range(20): torch.bmm(a,b.transpose(1,2))
dt=(time.perf_counter()-t)/20; print("bmm NT", f"{dt*1e3:.2f} ms {2*256*64**3/dt/1e9:.0f}")
t=time.perf_counter()
for _ in range(20): torch.bmm(a,b)
dt=(time.perf_counter()-t)/20; print("bmm NN", f"{dt*1e3:.2f} ms {2*256*64**3/dt/1e9:.0f}")
print(torch.__config__.show()[:600])
