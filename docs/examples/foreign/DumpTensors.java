// Dump the tensors a Java service feeds its model, for `skewcheck compare --serve tensors:OUT`.
// Usage: java DumpTensors.java IMAGES_DIR OUT_DIR
// For IMAGES_DIR/cat/001.png it writes OUT_DIR/cat/001.png.bin (float32, little-endian, H×W×3)
// and OUT_DIR/cat/001.png.json = {"shape": [H, W, 3], "dtype": "float32"}; a file it cannot
// decode gets OUT_DIR/cat/001.png.error with the reason instead.
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.*;
import java.util.stream.Stream;
import javax.imageio.ImageIO;

public class DumpTensors {
    /** The service's preprocessing: RGB, float32, divided by 255. */
    static float[] preprocess(BufferedImage img) {
        int h = img.getHeight(), w = img.getWidth();
        float[] t = new float[h * w * 3];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                int rgb = img.getRGB(x, y), i = (y * w + x) * 3;
                t[i] = ((rgb >> 16) & 0xff) / 255f;
                t[i + 1] = ((rgb >> 8) & 0xff) / 255f;
                t[i + 2] = (rgb & 0xff) / 255f;
            }
        return t;
    }

    static void dump(Path out, float[] t, int h, int w) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(t.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        buf.asFloatBuffer().put(t);
        Files.createDirectories(out.getParent());
        Files.write(Paths.get(out + ".bin"), buf.array());
        Files.writeString(Paths.get(out + ".json"),
            "{\"shape\": [" + h + ", " + w + ", 3], \"dtype\": \"float32\"}");
    }

    public static void main(String[] args) throws IOException {
        Path images = Paths.get(args[0]), outDir = Paths.get(args[1]);
        try (Stream<Path> files = Files.walk(images)) {
            for (Path f : (Iterable<Path>) files.filter(Files::isRegularFile).sorted()::iterator) {
                Path out = outDir.resolve(images.relativize(f).toString());
                BufferedImage img = ImageIO.read(f.toFile());
                if (img == null) {  // ImageIO returns null for bytes it cannot decode
                    Files.createDirectories(out.getParent());
                    Files.writeString(Paths.get(out + ".error"), "cannot decode image: ImageIO.read returned null\n");
                    continue;
                }
                dump(out, preprocess(img), img.getHeight(), img.getWidth());
            }
        }
    }
}
