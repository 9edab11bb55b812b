"""Realistic pairs of Vietnamese reports: one event told by two writers, and look-alikes that are not."""

SAME_EVENT = [
    # Provincial paper and a national site, each in its own words.
    (("Đắk Lắk công bố 1.247 thủ tục hành chính thực hiện không phụ thuộc địa giới hành chính",
      "Chủ tịch UBND tỉnh Đắk Lắk vừa ký Quyết định số 2150/QĐ-UBND công bố danh mục 1.247 thủ tục hành chính "
      "được tiếp nhận và trả kết quả không phụ thuộc vào địa giới hành chính trên địa bàn tỉnh, áp dụng từ ngày 1/10."),
     ("Người dân Đắk Lắk được nộp hồ sơ ở bất kỳ đâu trong tỉnh từ 1-10",
      "Từ 1-10, người dân có thể nộp hồ sơ cho 1.247 thủ tục hành chính tại bất kỳ điểm tiếp nhận nào trong tỉnh "
      "Đắk Lắk, không phụ thuộc nơi cư trú, theo quyết định vừa được UBND tỉnh ban hành.")),
    (("Thủ tướng chủ trì phiên họp Chính phủ chuyên đề xây dựng pháp luật tháng 9",
      "Sáng 14/9, Thủ tướng Phạm Minh Chính chủ trì phiên họp chuyên đề về xây dựng pháp luật tháng 9/2026, "
      "cho ý kiến về 6 dự án luật và 2 đề nghị xây dựng luật."),
     ("Chính phủ cho ý kiến 6 dự án luật tại phiên họp chuyên đề",
      "Ngày 14/9, tại trụ sở Chính phủ, Thủ tướng Phạm Minh Chính chủ trì phiên họp Chính phủ chuyên đề xây dựng "
      "pháp luật, thảo luận 6 dự án luật, trong đó có dự án Luật Tổ chức chính quyền địa phương (sửa đổi).")),
    (("Đắk Lắk đứng thứ 12 cả nước về Chỉ số cải cách hành chính PAR INDEX 2025",
      "Theo kết quả Bộ Nội vụ công bố chiều 15/9, Chỉ số cải cách hành chính năm 2025 của tỉnh Đắk Lắk đạt "
      "89,45%, xếp thứ 12/34 tỉnh, thành phố, tăng 9 bậc so với năm trước."),
     ("PAR INDEX 2025: Đắk Lắk tăng 9 bậc",
      "Bộ Nội vụ vừa công bố Chỉ số cải cách hành chính năm 2025. Đắk Lắk đạt 89,45%, đứng thứ 12 trong 34 tỉnh, "
      "thành phố; các chỉ số thành phần về chính quyền số và cải cách thủ tục hành chính đều tăng.")),
]
DIFFERENT = [
    # Templated personnel news about two departments and two people.
    (("Bổ nhiệm Phó Giám đốc Sở Nội vụ tỉnh Đắk Lắk",
      "Ngày 15/9, UBND tỉnh Đắk Lắk tổ chức trao quyết định bổ nhiệm ông Nguyễn Văn Hùng giữ chức "
      "Phó Giám đốc Sở Nội vụ, thời hạn 5 năm."),
     ("Bổ nhiệm Phó Giám đốc Sở Tư pháp tỉnh Đắk Lắk",
      "Ngày 15/9, UBND tỉnh Đắk Lắk tổ chức trao quyết định bổ nhiệm bà Trần Thị Mai giữ chức "
      "Phó Giám đốc Sở Tư pháp, thời hạn 5 năm.")),
    # The same announcement made by two provinces.
    (("Đắk Lắk công bố 1.247 thủ tục hành chính không phụ thuộc địa giới hành chính",
      "UBND tỉnh Đắk Lắk vừa công bố danh mục 1.247 thủ tục hành chính được tiếp nhận không phụ thuộc "
      "địa giới hành chính, áp dụng từ ngày 1/10."),
     ("Gia Lai công bố 1.247 thủ tục hành chính không phụ thuộc địa giới hành chính",
      "UBND tỉnh Gia Lai vừa công bố danh mục 1.247 thủ tục hành chính được tiếp nhận không phụ thuộc "
      "địa giới hành chính, áp dụng từ ngày 1/10.")),
    # Two decisions of one body, told apart by their numbers.
    (("UBND tỉnh ban hành Quyết định 2150/QĐ-UBND về danh mục thủ tục hành chính",
      "UBND tỉnh Đắk Lắk ban hành Quyết định số 2150/QĐ-UBND công bố danh mục thủ tục hành chính lĩnh vực đất đai."),
     ("UBND tỉnh ban hành Quyết định 2151/QĐ-UBND về danh mục thủ tục hành chính",
      "UBND tỉnh Đắk Lắk ban hành Quyết định số 2151/QĐ-UBND công bố danh mục thủ tục hành chính lĩnh vực tư pháp.")),
    # One province, one day, two events.
    (("Đắk Lắk: 100% thủ tục hành chính được tiếp nhận tại Trung tâm Phục vụ hành chính công",
      "Từ ngày 1/9, toàn bộ thủ tục hành chính thuộc thẩm quyền cấp tỉnh được tiếp nhận tại Trung tâm Phục vụ "
      "hành chính công tỉnh Đắk Lắk theo cơ chế một cửa liên thông."),
     ("Xã Hòa Phú triển khai kết nối VNeID cho người cao tuổi",
      "UBND xã Hòa Phú, tỉnh Đắk Lắk phối hợp Công an xã hướng dẫn người cao tuổi kích hoạt tài khoản định danh "
      "điện tử VNeID từ ngày 1/9; đến nay hơn 2.600 người đã được kích hoạt.")),
]
