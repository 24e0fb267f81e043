// bebr from Java through sqlite-jdbc (Debian's libxerial-sqlite-jdbc-java). Filtered kNN with
// rescore over the bundled bible passages, one line a hit.
//   java -cp /usr/share/java/sqlite-jdbc.jar Knn.java path/to/bebr examples/data/bible
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Arrays;
import java.util.List;
import org.sqlite.SQLiteConfig;

public class Knn {
  public static void main(String[] args) throws Exception {
    String ext = args[0];
    Path data = Path.of(args[1]);
    PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    SQLiteConfig config = new SQLiteConfig();
    config.enableLoadExtension(true); // off by default
    try (Connection db = config.createConnection("jdbc:sqlite::memory:");
         Statement st = db.createStatement()) {
      st.execute("SELECT load_extension('" + ext.replace("'", "''") + "')");
      st.execute("CREATE VIRTUAL TABLE bible USING bebr(embedding float[1024], book text, chapter integer, "
                 + "+passage text, bits=2, store_vectors=1)");
      byte[] base = Files.readAllBytes(data.resolve("base.f32"));
      List<String> rows = Files.readAllLines(data.resolve("passages.tsv"), StandardCharsets.UTF_8);
      db.setAutoCommit(false);
      try (PreparedStatement insert = db.prepareStatement(
               "INSERT INTO bible(rowid, embedding, book, chapter, passage) VALUES (?, ?, ?, ?, ?)")) {
        for (String line : rows.subList(1, rows.size())) {
          String[] c = line.split("\t", -1);
          if (!c[0].equals("base")) continue;
          int i = Integer.parseInt(c[1]);
          insert.setInt(1, i);
          insert.setBytes(2, Arrays.copyOfRange(base, i * 4096, (i + 1) * 4096));
          insert.setString(3, c[2]);
          insert.setInt(4, Integer.parseInt(c[3]));
          insert.setString(5, c[4]);
          insert.executeUpdate();
        }
      }
      db.commit();
      db.setAutoCommit(true);

      byte[] query = Arrays.copyOfRange(Files.readAllBytes(data.resolve("queries.f32")), 120 * 4096, 121 * 4096);
      try (PreparedStatement select = db.prepareStatement(
               "SELECT printf('%d %s %d %.4f %s', rowid, book, chapter, distance, substr(passage, 1, 60)) "
               + "FROM bible WHERE embedding MATCH ? AND k = 5 AND rescore = 40 AND chapter <= 10")) {
        select.setBytes(1, query);
        try (ResultSet rs = select.executeQuery()) {
          while (rs.next()) out.println(rs.getString(1));
        }
      }
    }
  }
}
