// Reference for the N4 specs and benchmark: ITK's N4BiasFieldCorrectionImageFilter
// run the way SimpleITK users run it (shrink image and mask with ShrinkImageFilter,
// correct, then evaluate the log field at full resolution from the control
// lattice with BSplineControlPointImageFilter, corrected = input / exp(field)).
//
//   n4_itk INPUT MASK SHRINK ITERATIONS THREADS OUT_PREFIX [CONVERGENCE]
//     MASK: a uint8 image file, "otsu" (OtsuThreshold(image, 0, 1, 200)) or "-" (none)
//     ITERATIONS: comma-separated counts per level, e.g. 20,10,10,5
//     OUT_PREFIX: writes PREFIX_logfield.nii and PREFIX_corrected.nii (float32),
//                 and PREFIX_mask.nii for "otsu"; "-" writes nothing (benchmark)
// Built on demand by tests/ref/build_n4_itk.sh.
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "itkBSplineControlPointImageFilter.h"
#include "itkDivideImageFilter.h"
#include "itkExpImageFilter.h"
#include "itkImage.h"
#include "itkImageFileReader.h"
#include "itkImageFileWriter.h"
#include "itkMultiThreaderBase.h"
#include "itkN4BiasFieldCorrectionImageFilter.h"
#include "itkNiftiImageIO.h"
#include "itkOtsuThresholdImageFilter.h"
#include "itkShrinkImageFilter.h"
#include "itkVectorIndexSelectionCastImageFilter.h"

using Image = itk::Image<float, 3>;
using Mask = itk::Image<unsigned char, 3>;

template <typename T>
static typename T::Pointer read(const std::string &path)
{
    auto reader = itk::ImageFileReader<T>::New();
    reader->SetImageIO(itk::NiftiImageIO::New());
    reader->SetFileName(path);
    reader->Update();
    return reader->GetOutput();
}

template <typename T>
static void write(const typename T::Pointer &img, const std::string &path)
{
    auto writer = itk::ImageFileWriter<T>::New();
    writer->SetImageIO(itk::NiftiImageIO::New());
    writer->SetFileName(path);
    writer->SetInput(img);
    writer->Update();
}

int main(int argc, char **argv)
{
    if (argc < 7) {
        std::cerr << "usage: n4_itk INPUT MASK SHRINK ITERATIONS THREADS OUT_PREFIX [CONVERGENCE]\n";
        return 2;
    }
    std::string input = argv[1], maskArg = argv[2], prefix = argv[6];
    unsigned shrink = std::atoi(argv[3]), threads = std::atoi(argv[5]);
    double convergence = argc > 7 ? std::atof(argv[7]) : 0.001;
    std::vector<unsigned> its;
    std::stringstream ss(argv[4]);
    for (std::string tok; std::getline(ss, tok, ',');) its.push_back(std::atoi(tok.c_str()));

    itk::MultiThreaderBase::SetGlobalMaximumNumberOfThreads(threads);
    itk::MultiThreaderBase::SetGlobalDefaultNumberOfThreads(threads);
    auto t0 = std::chrono::steady_clock::now();

    Image::Pointer image = read<Image>(input);
    Mask::Pointer mask;
    if (maskArg == "otsu") {
        auto otsu = itk::OtsuThresholdImageFilter<Image, Mask>::New();
        otsu->SetInput(image);
        otsu->SetInsideValue(0);
        otsu->SetOutsideValue(1);
        otsu->SetNumberOfHistogramBins(200);
        otsu->Update();
        mask = otsu->GetOutput();
        std::cout << "otsu_threshold " << otsu->GetThreshold() << "\n";
        if (prefix != "-") write<Mask>(mask, prefix + "_mask.nii");
    } else if (maskArg != "-") {
        mask = read<Mask>(maskArg);
    }

    auto shrinker = itk::ShrinkImageFilter<Image, Image>::New();
    shrinker->SetInput(image);
    shrinker->SetShrinkFactors(shrink);
    shrinker->Update();

    using N4 = itk::N4BiasFieldCorrectionImageFilter<Image, Mask, Image>;
    auto n4 = N4::New();
    n4->SetNumberOfWorkUnits(threads);
    n4->SetInput(shrinker->GetOutput());
    if (mask) {
        auto mshrinker = itk::ShrinkImageFilter<Mask, Mask>::New();
        mshrinker->SetInput(mask);
        mshrinker->SetShrinkFactors(shrink);
        mshrinker->Update();
        n4->SetMaskImage(mshrinker->GetOutput());
    }
    N4::VariableSizeArrayType iterations(its.size());
    for (size_t i = 0; i < its.size(); i++) iterations[i] = its[i];
    n4->SetMaximumNumberOfIterations(iterations);
    n4->SetNumberOfFittingLevels(static_cast<unsigned>(its.size()));
    n4->SetConvergenceThreshold(convergence);
    n4->Update();
    std::cout << "n4_seconds " << std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() << "\n";

    using Lattice = N4::BiasFieldControlPointLatticeType;
    using Vec = itk::Image<itk::Vector<float, 1>, 3>;
    auto bspliner = itk::BSplineControlPointImageFilter<Lattice, Vec>::New();
    bspliner->SetInput(n4->GetLogBiasFieldControlPointLattice());
    bspliner->SetSplineOrder(n4->GetSplineOrder());
    bspliner->SetSize(image->GetLargestPossibleRegion().GetSize());
    bspliner->SetOrigin(image->GetOrigin());
    bspliner->SetSpacing(image->GetSpacing());
    bspliner->SetDirection(image->GetDirection());
    bspliner->Update(); // the output's geometry is only set while it runs
    Vec::Pointer vecField = bspliner->GetOutput();
    vecField->DisconnectPipeline();
    auto select = itk::VectorIndexSelectionCastImageFilter<Vec, Image>::New();
    select->SetInput(vecField);
    select->SetIndex(0);
    auto expf = itk::ExpImageFilter<Image, Image>::New();
    expf->SetInput(select->GetOutput());
    auto divide = itk::DivideImageFilter<Image, Image, Image>::New();
    divide->SetInput1(image);
    divide->SetInput2(expf->GetOutput());
    divide->Update();
    Image::Pointer logField = select->GetOutput();

    auto t1 = std::chrono::steady_clock::now();
    std::cout << "seconds " << std::chrono::duration<double>(t1 - t0).count() << "\n";
    std::cout << "final_lattice " << n4->GetLogBiasFieldControlPointLattice()->GetLargestPossibleRegion().GetSize()
              << "\n";
    if (prefix != "-") {
        write<Image>(logField, prefix + "_logfield.nii");
        write<Image>(divide->GetOutput(), prefix + "_corrected.nii");
    }
    return 0;
}
