/* The small DICOM dictionary medula needs: the VR of every attribute it
 * interprets (so implicit VR files decode the same as explicit ones; "xs" is
 * US or SS as PixelRepresentation says, resolved by the parser) and the
 * keywords v.meta carries. Not the full PS3.6 table: any other attribute is
 * still reachable by its (group,element) number. */
#include <stddef.h>
#include <string.h>

#include "dicom_parse.h"

typedef struct {
    uint32_t tag;
    const char *vr;
    const char *keyword;
} Entry;

#define T MD_DCM_TAG
static const Entry dict[] = {
    {T(0x0002, 0x0002), "UI", "MediaStorageSOPClassUID"},
    {T(0x0002, 0x0003), "UI", "MediaStorageSOPInstanceUID"},
    {T(0x0002, 0x0010), "UI", "TransferSyntaxUID"},
    {T(0x0002, 0x0012), "UI", "ImplementationClassUID"},
    {T(0x0002, 0x0013), "SH", "ImplementationVersionName"},
    {T(0x0008, 0x0008), "CS", "ImageType"},
    {T(0x0008, 0x0012), "DA", "InstanceCreationDate"},
    {T(0x0008, 0x0016), "UI", "SOPClassUID"},
    {T(0x0008, 0x0018), "UI", "SOPInstanceUID"},
    {T(0x0008, 0x0020), "DA", "StudyDate"},
    {T(0x0008, 0x0021), "DA", "SeriesDate"},
    {T(0x0008, 0x0022), "DA", "AcquisitionDate"},
    {T(0x0008, 0x0023), "DA", "ContentDate"},
    {T(0x0008, 0x0030), "TM", "StudyTime"},
    {T(0x0008, 0x0031), "TM", "SeriesTime"},
    {T(0x0008, 0x0032), "TM", "AcquisitionTime"},
    {T(0x0008, 0x0033), "TM", "ContentTime"},
    {T(0x0008, 0x0050), "SH", "AccessionNumber"},
    {T(0x0008, 0x0060), "CS", "Modality"},
    {T(0x0008, 0x0070), "LO", "Manufacturer"},
    {T(0x0008, 0x0080), "LO", "InstitutionName"},
    {T(0x0008, 0x1030), "LO", "StudyDescription"},
    {T(0x0008, 0x103E), "LO", "SeriesDescription"},
    {T(0x0008, 0x1090), "LO", "ManufacturerModelName"},
    {T(0x0008, 0x1115), "SQ", "ReferencedSeriesSequence"},
    {T(0x0008, 0x1140), "SQ", "ReferencedImageSequence"},
    {T(0x0008, 0x1150), "UI", "ReferencedSOPClassUID"},
    {T(0x0008, 0x1155), "UI", "ReferencedSOPInstanceUID"},
    {T(0x0008, 0x2112), "SQ", "SourceImageSequence"},
    {T(0x0008, 0x9124), "SQ", "DerivationImageSequence"},
    {T(0x0010, 0x0010), "PN", "PatientName"},
    {T(0x0010, 0x0020), "LO", "PatientID"},
    {T(0x0010, 0x0030), "DA", "PatientBirthDate"},
    {T(0x0010, 0x0040), "CS", "PatientSex"},
    {T(0x0010, 0x1010), "AS", "PatientAge"},
    {T(0x0018, 0x0015), "CS", "BodyPartExamined"},
    {T(0x0018, 0x0050), "DS", "SliceThickness"},
    {T(0x0018, 0x0060), "DS", "KVP"},
    {T(0x0018, 0x0080), "DS", "RepetitionTime"},
    {T(0x0018, 0x0081), "DS", "EchoTime"},
    {T(0x0018, 0x0087), "DS", "MagneticFieldStrength"},
    {T(0x0018, 0x0088), "DS", "SpacingBetweenSlices"},
    {T(0x0018, 0x1020), "LO", "SoftwareVersions"},
    {T(0x0018, 0x1030), "LO", "ProtocolName"},
    {T(0x0018, 0x1120), "DS", "GantryDetectorTilt"},
    {T(0x0018, 0x1150), "IS", "ExposureTime"},
    {T(0x0018, 0x1151), "IS", "XRayTubeCurrent"},
    {T(0x0018, 0x1152), "IS", "Exposure"},
    {T(0x0018, 0x1210), "SH", "ConvolutionKernel"},
    {T(0x0018, 0x5100), "CS", "PatientPosition"},
    {T(0x0019, 0x100A), "US", "NumberOfImagesInMosaic"},
    {T(0x0020, 0x000D), "UI", "StudyInstanceUID"},
    {T(0x0020, 0x000E), "UI", "SeriesInstanceUID"},
    {T(0x0020, 0x0010), "SH", "StudyID"},
    {T(0x0020, 0x0011), "IS", "SeriesNumber"},
    {T(0x0020, 0x0012), "IS", "AcquisitionNumber"},
    {T(0x0020, 0x0013), "IS", "InstanceNumber"},
    {T(0x0020, 0x0032), "DS", "ImagePositionPatient"},
    {T(0x0020, 0x0037), "DS", "ImageOrientationPatient"},
    {T(0x0020, 0x0052), "UI", "FrameOfReferenceUID"},
    {T(0x0020, 0x1041), "DS", "SliceLocation"},
    {T(0x0020, 0x9113), "SQ", "PlanePositionSequence"},
    {T(0x0020, 0x9116), "SQ", "PlaneOrientationSequence"},
    {T(0x0028, 0x0002), "US", "SamplesPerPixel"},
    {T(0x0028, 0x0004), "CS", "PhotometricInterpretation"},
    {T(0x0028, 0x0006), "US", "PlanarConfiguration"},
    {T(0x0028, 0x0008), "IS", "NumberOfFrames"},
    {T(0x0028, 0x0010), "US", "Rows"},
    {T(0x0028, 0x0011), "US", "Columns"},
    {T(0x0028, 0x0030), "DS", "PixelSpacing"},
    {T(0x0028, 0x0100), "US", "BitsAllocated"},
    {T(0x0028, 0x0101), "US", "BitsStored"},
    {T(0x0028, 0x0102), "US", "HighBit"},
    {T(0x0028, 0x0103), "US", "PixelRepresentation"},
    {T(0x0028, 0x0106), "xs", "SmallestImagePixelValue"},
    {T(0x0028, 0x0107), "xs", "LargestImagePixelValue"},
    {T(0x0028, 0x0108), "xs", "SmallestPixelValueInSeries"},
    {T(0x0028, 0x0109), "xs", "LargestPixelValueInSeries"},
    {T(0x0028, 0x0120), "xs", "PixelPaddingValue"},
    {T(0x0028, 0x0121), "xs", "PixelPaddingRangeLimit"},
    {T(0x0028, 0x1050), "DS", "WindowCenter"},
    {T(0x0028, 0x1051), "DS", "WindowWidth"},
    {T(0x0028, 0x1052), "DS", "RescaleIntercept"},
    {T(0x0028, 0x1053), "DS", "RescaleSlope"},
    {T(0x0028, 0x1054), "LO", "RescaleType"},
    {T(0x0028, 0x9110), "SQ", "PixelMeasuresSequence"},
    {T(0x0028, 0x9145), "SQ", "PixelValueTransformationSequence"},
    {T(0x0062, 0x0001), "CS", "SegmentationType"},
    {T(0x0062, 0x0002), "SQ", "SegmentSequence"},
    {T(0x0062, 0x0004), "US", "SegmentNumber"},
    {T(0x0062, 0x0005), "LO", "SegmentLabel"},
    {T(0x0062, 0x0006), "ST", "SegmentDescription"},
    {T(0x0062, 0x0008), "CS", "SegmentAlgorithmType"},
    {T(0x0062, 0x000A), "SQ", "SegmentIdentificationSequence"},
    {T(0x0062, 0x000B), "US", "ReferencedSegmentNumber"},
    {T(0x0062, 0x000E), "US", "MaximumFractionalValue"},
    {T(0x0062, 0x0010), "CS", "SegmentationFractionalType"},
    {T(0x3004, 0x0002), "CS", "DoseUnits"},
    {T(0x3004, 0x000C), "DS", "GridFrameOffsetVector"},
    {T(0x3004, 0x000E), "DS", "DoseGridScaling"},
    {T(0x5200, 0x9229), "SQ", "SharedFunctionalGroupsSequence"},
    {T(0x5200, 0x9230), "SQ", "PerFrameFunctionalGroupsSequence"},
    {T(0x7FE0, 0x0010), "OW", "PixelData"},
};
#undef T

static const Entry *lookup(uint32_t tag)
{
    size_t lo = 0, hi = sizeof dict / sizeof dict[0];
    while (lo < hi) { /* dict is sorted by tag */
        size_t mid = (lo + hi) / 2;
        if (dict[mid].tag == tag) return &dict[mid];
        if (dict[mid].tag < tag)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

const char *md_dcm_keyword(uint32_t tag, const char **vr)
{
    const Entry *e = lookup(tag);
    if (vr) *vr = e ? e->vr : NULL;
    return e ? e->keyword : NULL;
}

uint32_t md_dcm_tag_of(const char *keyword)
{
    for (size_t i = 0; i < sizeof dict / sizeof dict[0]; i++)
        if (strcmp(dict[i].keyword, keyword) == 0) return dict[i].tag;
    return 0;
}

uint32_t md_dcm_dict_tag(size_t i)
{
    return i < sizeof dict / sizeof dict[0] ? dict[i].tag : 0;
}
