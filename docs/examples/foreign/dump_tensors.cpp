// Dump the tensors a C++ service feeds its model, for `skewcheck compare --serve tensors:OUT`.
// Build: g++ -std=c++17 -O2 dump_tensors.cpp -lpng -o dump_tensors
// Usage: ./dump_tensors OUT_DIR IMAGES_DIR/a.png [more.png ...]   (paths relative to IMAGES_DIR
//        are kept: run it from IMAGES_DIR, e.g. `cd images && ../dump_tensors ../out */*.png`)
#include <png.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

// Raw little-endian float32, whatever the host's byte order: what skewcheck's .bin expects.
static void put_le32(std::ofstream& out, float f) {
    uint32_t bits;
    std::memcpy(&bits, &f, 4);
    const char b[4] = {char(bits), char(bits >> 8), char(bits >> 16), char(bits >> 24)};
    out.write(b, 4);
}

static void dump(const fs::path& base, const std::vector<float>& t, uint32_t h, uint32_t w) {
    fs::create_directories(base.parent_path());
    std::ofstream bin(base.string() + ".bin", std::ios::binary);
    for (float v : t) put_le32(bin, v);
    std::ofstream(base.string() + ".json")
        << "{\"shape\": [" << h << ", " << w << ", 3], \"dtype\": \"float32\"}";
}

int main(int argc, char** argv) {
    const fs::path out_dir = argv[1];
    for (int i = 2; i < argc; ++i) {
        png_image image;
        std::memset(&image, 0, sizeof image);
        image.version = PNG_IMAGE_VERSION;
        if (!png_image_begin_read_from_file(&image, argv[i])) {
            std::ofstream(out_dir / (std::string(argv[i]) + ".error")) << "cannot decode image: " << image.message << "\n";
            continue;
        }
        image.format = PNG_FORMAT_BGR;  // the service's preprocessing: BGR, as OpenCV code habitually is
        std::vector<png_byte> pixels(PNG_IMAGE_SIZE(image));
        png_image_finish_read(&image, nullptr, pixels.data(), 0, nullptr);
        std::vector<float> t(pixels.size());
        for (size_t k = 0; k < pixels.size(); ++k) t[k] = pixels[k] / 255.0f;
        dump(out_dir / argv[i], t, image.height, image.width);
    }
    return 0;
}
