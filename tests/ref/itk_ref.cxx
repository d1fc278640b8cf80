// Reference for the two ITK filters medula reproduces: ITK's
// LaplacianSharpeningImageFilter and AdaptiveHistogramEqualizationImageFilter,
// built against Debian's libinsighttoolkit5-dev by the intensity spec.
//
//   itk_ref sharpen TYPE NX NY NZ SX SY SZ IN.raw OUT.raw
//   itk_ref ahe TYPE NX NY NZ ALPHA BETA RX RY RZ IN.raw OUT.raw
//   itk_ref smooth float NX NY NZ SX SY SZ SIGMA_MM IN.raw OUT.raw
//
// TYPE is short or float; IN.raw holds NX*NY*NZ little-endian voxels (x
// fastest) and OUT.raw receives the filter's output in the same type. The
// raw layout keeps the program free of ITK's IO factories.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "itkAdaptiveHistogramEqualizationImageFilter.h"
#include "itkImage.h"
#include "itkLaplacianSharpeningImageFilter.h"
#include "itkSmoothingRecursiveGaussianImageFilter.h"

template <typename T> using Image3 = itk::Image<T, 3>;

template <typename T>
static typename Image3<T>::Pointer load(const char *path, const long n[3], const double sp[3])
{
    auto img = Image3<T>::New();
    typename Image3<T>::SizeType size;
    for (int a = 0; a < 3; a++) size[a] = (itk::SizeValueType)n[a];
    img->SetRegions(size);
    double s[3] = {sp[0], sp[1], sp[2]};
    img->SetSpacing(s);
    img->Allocate();
    size_t count = (size_t)n[0] * n[1] * n[2];
    FILE *f = std::fopen(path, "rb");
    if (!f || std::fread(img->GetBufferPointer(), sizeof(T), count, f) != count) {
        std::fprintf(stderr, "itk_ref: cannot read %zu voxels from %s\n", count, path);
        std::exit(2);
    }
    std::fclose(f);
    return img;
}

template <typename T> static void save(const char *path, Image3<T> *img)
{
    size_t count = img->GetLargestPossibleRegion().GetNumberOfPixels();
    FILE *f = std::fopen(path, "wb");
    if (!f || std::fwrite(img->GetBufferPointer(), sizeof(T), count, f) != count) {
        std::fprintf(stderr, "itk_ref: cannot write %s\n", path);
        std::exit(2);
    }
    std::fclose(f);
}

template <typename T> static int run(int argc, char **argv)
{
    long n[3] = {std::atol(argv[3]), std::atol(argv[4]), std::atol(argv[5])};
    std::string op = argv[1];
    if (op == "sharpen" && argc == 11) {
        double sp[3] = {std::atof(argv[6]), std::atof(argv[7]), std::atof(argv[8])};
        auto in = load<T>(argv[9], n, sp);
        auto f = itk::LaplacianSharpeningImageFilter<Image3<T>, Image3<T>>::New();
        f->SetInput(in);
        f->Update();
        save<T>(argv[10], f->GetOutput());
        return 0;
    }
    if (op == "smooth" && argc == 12) {
        double sp[3] = {std::atof(argv[6]), std::atof(argv[7]), std::atof(argv[8])};
        auto in = load<T>(argv[10], n, sp);
        auto f = itk::SmoothingRecursiveGaussianImageFilter<Image3<T>, Image3<T>>::New();
        f->SetSigma(std::atof(argv[9]));
        f->SetInput(in);
        f->Update();
        save<T>(argv[11], f->GetOutput());
        return 0;
    }
    if (op == "ahe" && argc == 13) {
        double sp[3] = {1, 1, 1};
        auto in = load<T>(argv[11], n, sp);
        auto f = itk::AdaptiveHistogramEqualizationImageFilter<Image3<T>>::New();
        f->SetAlpha((float)std::atof(argv[6]));
        f->SetBeta((float)std::atof(argv[7]));
        typename Image3<T>::SizeType r;
        for (int a = 0; a < 3; a++) r[a] = (itk::SizeValueType)std::atol(argv[8 + a]);
        f->SetRadius(r);
        f->SetInput(in);
        f->Update();
        save<T>(argv[12], f->GetOutput());
        return 0;
    }
    std::fprintf(stderr, "usage: itk_ref sharpen TYPE NX NY NZ SX SY SZ IN OUT | ahe TYPE NX NY NZ ALPHA BETA RX RY RZ IN OUT\n");
    return 2;
}

int main(int argc, char **argv)
{
    if (argc < 6) {
        std::fprintf(stderr, "usage: itk_ref sharpen|ahe short|float NX NY NZ ...\n");
        return 2;
    }
    if (std::strcmp(argv[2], "short") == 0) return run<short>(argc, argv);
    return run<float>(argc, argv);
}
