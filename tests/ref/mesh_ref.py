#!/usr/bin/python3
"""Reference for tests/mesh_spec.lua: scikit-image, VTK and plain-Python
readers on the same inputs as medula's marching cubes and mesh writers.

  mesh_ref.py cases                 triangles per cube case (0-255) of VTK's
                                    vtkFlyingEdges3D and vtkMarchingCubes and
                                    of skimage's marching_cubes (lorensen)
  mesh_ref.py skimage NPY LEVEL SPACING   vertex and face counts, area and
                                    volume of skimage.measure.marching_cubes
                                    (default method and 'lorensen')
  mesh_ref.py vtk NPY LEVEL         point and triangle counts of
                                    vtkFlyingEdges3D on the volume
  mesh_ref.py read FILE             the mesh parsed back: STL and PLY with
                                    struct, OBJ as text, VTK with VTK's
                                    reader; counts, area, volume, the first
                                    vertices and the edge-use histogram

NPY files are medula's (numpy shape (z, y, x), x fastest). Output is one JSON
object. Run with Debian's /usr/bin/python3 (python3-skimage, python3-vtk9).
"""
import json
import struct
import sys

import numpy as np


def vtk_image(a):
    import vtk
    from vtk.util import numpy_support as ns
    img = vtk.vtkImageData()
    img.SetDimensions(a.shape[2], a.shape[1], a.shape[0])
    arr = ns.numpy_to_vtk(np.ascontiguousarray(a, dtype=np.float64).ravel(), deep=True)
    img.GetPointData().SetScalars(arr)
    return img


def vtk_counts(a, level, cls="vtkFlyingEdges3D"):
    import vtk
    f = getattr(vtk, cls)()
    f.SetInputData(vtk_image(a))
    f.SetValue(0, level)
    f.ComputeNormalsOff()
    f.ComputeGradientsOff()
    f.ComputeScalarsOff()
    f.Update()
    out = f.GetOutput()
    return out.GetNumberOfPoints(), out.GetNumberOfCells()


def cases():
    from skimage import measure
    fe, mc, sk = [], [], []
    for c in range(256):
        a = np.zeros((2, 2, 2), np.float32)
        for i in range(8):
            if c >> i & 1:
                a[i >> 2 & 1, i >> 1 & 1, i & 1] = 1
        fe.append(vtk_counts(a, 0.5)[1])
        mc.append(vtk_counts(a, 0.5, "vtkMarchingCubes")[1])
        if 0 < c < 255:
            sk.append(len(measure.marching_cubes(a, 0.5, method="lorensen")[1]))
        else:
            sk.append(0)
    return {"flying_edges": fe, "marching_cubes": mc, "skimage_lorensen": sk}


def mesh_measures(verts, faces):
    v = verts[faces]
    cr = np.cross(v[:, 1] - v[:, 0], v[:, 2] - v[:, 0])
    area = 0.5 * np.linalg.norm(cr, axis=1).sum()
    volume = np.einsum("ij,ij->i", v[:, 0], np.cross(v[:, 1], v[:, 2])).sum() / 6
    return float(area), float(volume)


def skimage_ref(path, level, spacing):
    from skimage import measure
    a = np.load(path)
    sp = tuple(float(s) for s in spacing.split(","))[::-1]  # (z, y, x)
    r = {}
    for method in ("lewiner", "lorensen"):
        v, f, _, _ = measure.marching_cubes(a, level, spacing=sp, method=method)
        area, vol = mesh_measures(v, f)
        r[method] = {"vertices": len(v), "faces": len(f), "area": area, "volume": abs(vol)}
    return r


def edge_uses(faces):
    e = np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]])
    directed = np.unique(e, axis=0, return_counts=True)[1]
    e.sort(axis=1)
    counts = np.unique(e, axis=0, return_counts=True)[1]
    hist = np.bincount(counts)
    return {str(k): int(n) for k, n in enumerate(hist) if n}, int(directed.max()) if len(directed) else 0


def read_stl(path):
    b = open(path, "rb").read()
    n = struct.unpack_from("<I", b, 80)[0]
    rec = np.frombuffer(b, dtype=np.dtype([("n", "<f4", 3), ("v", "<f4", (3, 3)), ("a", "<u2")]),
                        count=n, offset=84)
    assert len(b) == 84 + 50 * n, "STL size does not match its count"
    tri = rec["v"].reshape(-1, 3).astype(np.float64)
    verts, faces = np.unique(tri, axis=0, return_inverse=True)
    return verts, faces.reshape(-1, 3), {"header": b[:80].decode("ascii", "replace").strip(),
                                          "normals": rec["n"].astype(np.float64)}


def read_ply(path):
    b = open(path, "rb").read()
    end = b.index(b"end_header\n") + len(b"end_header\n")
    head = b[:end].decode("ascii").split("\n")
    assert head[1] == "format binary_little_endian 1.0"
    nv = int([h for h in head if h.startswith("element vertex")][0].split()[2])
    nf = int([h for h in head if h.startswith("element face")][0].split()[2])
    verts = np.frombuffer(b, "<f4", 3 * nv, end).reshape(nv, 3).astype(np.float64)
    rec = np.frombuffer(b, np.dtype([("k", "u1"), ("i", "<i4", 3)]), nf, end + 12 * nv)
    assert (rec["k"] == 3).all() and len(b) == end + 12 * nv + 13 * nf
    return verts, rec["i"].astype(np.int64), {}


def read_obj(path):
    vs, fs = [], []
    for line in open(path):
        p = line.split()
        if p and p[0] == "v":
            vs.append([float(x) for x in p[1:4]])
        elif p and p[0] == "f":
            fs.append([int(x) - 1 for x in p[1:4]])
    return np.array(vs).reshape(-1, 3), np.array(fs, dtype=np.int64).reshape(-1, 3), {}


def read_vtk(path):
    import vtk
    from vtk.util import numpy_support as ns
    r = vtk.vtkPolyDataReader()
    r.SetFileName(path)
    r.Update()
    pd = r.GetOutput()
    verts = ns.vtk_to_numpy(pd.GetPoints().GetData()).astype(np.float64)
    cells = ns.vtk_to_numpy(pd.GetPolys().GetConnectivityArray()).astype(np.int64)
    return verts, cells.reshape(-1, 3), {}


def read(path):
    ext = path.rsplit(".", 1)[1].lower()
    verts, faces, extra = {"stl": read_stl, "ply": read_ply, "obj": read_obj, "vtk": read_vtk}[ext](path)
    area, vol = mesh_measures(verts, faces)
    hist, maxdir = edge_uses(faces)
    r = {"vertices": len(verts), "faces": len(faces), "area": area, "volume": vol,
         "first_vertices": verts[:4].ravel().tolist(), "first_faces": faces[:2].ravel().tolist(),
         "edge_uses": hist, "max_directed_edge_uses": maxdir}
    if "normals" in extra:
        v = verts[faces]
        cr = np.cross(v[:, 1] - v[:, 0], v[:, 2] - v[:, 0])
        cr /= np.linalg.norm(cr, axis=1)[:, None]
        r["normal_error"] = float(np.abs(cr - extra["normals"]).max())
        r["header"] = extra["header"]
    return r


def main():
    cmd = sys.argv[1]
    if cmd == "cases":
        r = cases()
    elif cmd == "skimage":
        r = skimage_ref(sys.argv[2], float(sys.argv[3]), sys.argv[4])
    elif cmd == "vtk":
        p, t = vtk_counts(np.load(sys.argv[2]), float(sys.argv[3]))
        r = {"points": p, "triangles": t}
    elif cmd == "read":
        r = read(sys.argv[2])
    else:
        raise SystemExit("unknown command " + cmd)
    print(json.dumps(r))


if __name__ == "__main__":
    main()
